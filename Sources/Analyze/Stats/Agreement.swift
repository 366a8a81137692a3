/// How well an estimate tracks the value it estimates, over paired samples (docs/methods.md
/// §18.3): Pearson and Spearman (Correlation), the share of pairs whose signs agree (sign 0 for
/// 0, so an estimate of no change agrees only with no change), and the pair of largest absolute
/// difference. Pairs with a NaN on either side are left out.
public struct Agreement: Sendable {
    public let pairs: Int
    public let meanEstimate: Double
    public let meanExact: Double
    public let pearson: Double?
    public let spearman: Double?
    public let signAgreement: Double
    /// Index into the given samples of the largest |estimate - exact|.
    public let worst: Int

    /// nil when no pair is defined.
    public init?(estimate: [Double], exact: [Double]) {
        let kept = estimate.indices.filter { !estimate[$0].isNaN && !exact[$0].isNaN }
        guard !kept.isEmpty, estimate.count == exact.count else { return nil }
        let x = kept.map { estimate[$0] }, y = kept.map { exact[$0] }
        pairs = kept.count
        meanEstimate = x.reduce(0, +) / Double(pairs)
        meanExact = y.reduce(0, +) / Double(pairs)
        pearson = Correlation.pearson(x, y)
        spearman = Correlation.spearman(x, y)
        signAgreement = Double(zip(x, y).filter { Self.sign($0) == Self.sign($1) }.count) / Double(pairs)
        worst = kept.max { abs(estimate[$0] - exact[$0]) < abs(estimate[$1] - exact[$1]) }!
    }

    static func sign(_ value: Double) -> Int { value > 0 ? 1 : value < 0 ? -1 : 0 }
}
