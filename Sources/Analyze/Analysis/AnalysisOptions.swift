import Foundation

/// Every choice a report makes where the methods leave one (docs/methods.md); all of them are
/// written to summary.json.
public struct AnalysisOptions: Sendable, Codable {
    public var subspace: SubspaceOption = .raw
    /// Top-k% of heads: k = max(1, floor(fraction * heads)).
    public var topFraction: Double = 0.03
    /// Random control head sets per set, each the size of the top sets, drawn outside them.
    public var randomSets: Int = 20
    public var bootstrapReplicates: Int = 200
    public var seed: UInt64 = 0
    /// Head-set files (`icl-analyze heads --json`) to ablate beside the top sets.
    public var headSetFiles: [String] = []

    public init() {}
}
