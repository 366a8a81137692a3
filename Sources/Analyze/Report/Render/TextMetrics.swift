/// Width of a label before it is drawn. SVG files carry no fonts, so layout uses the average
/// advance of common sans-serif faces (DejaVu Sans, Liberation Sans, Helvetica); the factor
/// errs wide so that margins computed from it do not clip.
enum TextMetrics {
    /// Average advance of a character, as a multiple of the font size.
    static let averageAdvance = 0.62

    static func width(_ text: String, fontSize: Double) -> Double {
        Double(text.count) * fontSize * averageAdvance
    }

    static func widest(_ texts: [String], fontSize: Double) -> Double {
        texts.map { width($0, fontSize: fontSize) }.max() ?? 0
    }
}
