/// The analyzer's version, written into every report it produces.
public enum AnalyzerVersion {
    public static let string = "0.1.0"
}
