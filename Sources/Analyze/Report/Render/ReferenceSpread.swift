/// A reference distribution drawn beside a bar (the same measurement on random head sets): a
/// box from the 5th to the 95th percentile, a line at the median, and every value as a dot.
public struct ReferenceSpread: Sendable, Equatable {
    static let boxFill = "#e3e3e3"
    static let boxStroke = "#8a8a8a"
    static let pointFill = "#4d4d4d"

    /// The finite values, ascending.
    public let sorted: [Double]

    public init(values: [Double]) {
        sorted = values.filter(\.isFinite).sorted()
    }

    public var isEmpty: Bool { sorted.isEmpty }

    /// The `p`-th percentile (0...100), numpy.percentile's default rule; nil without values.
    public func percentile(_ p: Double) -> Double? {
        Summary.quantile(sorted, min(max(p, 0), 100) / 100)
    }

    /// Horizontal offsets in -0.5...0.5 (times the box width) for the dots of `count` values:
    /// the fractional parts of multiples of the golden ratio, spread evenly and the same on
    /// every run.
    static func jitter(count: Int) -> [Double] {
        let golden = 0.618_033_988_749_895
        return (0..<count).map { index in
            let fraction = (Double(index + 1) * golden).truncatingRemainder(dividingBy: 1)
            return fraction - 0.5
        }
    }
}
