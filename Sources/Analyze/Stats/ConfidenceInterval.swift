/// A two-sided confidence interval [lower, upper].
public struct ConfidenceInterval: Codable, Sendable, Hashable {
    public let lower: Double
    public let upper: Double

    public init(lower: Double, upper: Double) {
        self.lower = lower
        self.upper = upper
    }

    public var width: Double { upper - lower }

    public func contains(_ value: Double) -> Bool {
        lower <= value && value <= upper
    }
}
