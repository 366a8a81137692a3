import Foundation
import Shared

/// Behaviour of the model on one set (docs/methods.md §8): the stored predictions' accuracy,
/// label-set ratio, label-restricted accuracy and gold probability, each with a 95% interval.
public struct SetBehaviour: Sendable, Codable {
    public struct Measure: Sendable, Codable {
        public let value: Double
        public let interval: ConfidenceInterval?
    }

    public let accuracy: Measure
    /// nil for open-answer sets.
    public let labelSetRatio: Measure?
    public let labelAccuracy: Measure
    public let meanGoldProbability: Measure
    public let meanGoldLogprob: Double

    init(rows: SetRows, space: LabelSpace, seed: UInt64, replicates: Int) {
        let p = rows.count
        func proportion(_ hits: Int) -> Measure {
            Measure(value: p > 0 ? Double(hits) / Double(p) : .nan, interval: Interval.wilson(successes: hits, trials: p))
        }
        let labels = Set(space.tokens)
        accuracy = proportion((0..<p).filter { rows.argmax[$0] == rows.goldToken[$0] }.count)
        labelSetRatio = rows.info.kind == .classification ? proportion(rows.argmax.filter { labels.contains($0) }.count) : nil
        labelAccuracy = proportion(Self.labelCorrect(rows: rows, space: space).filter { $0 }.count)
        let probabilities = rows.goldLogprob.map { exp(Double($0)) }
        meanGoldProbability = Measure(value: Summary.mean(probabilities) ?? .nan,
                                      interval: Interval.bootstrapMean(probabilities, replicates: replicates, seed: seed))
        meanGoldLogprob = Summary.mean(rows.goldLogprob.map(Double.init)) ?? .nan
    }

    /// Per prompt: is the argmax over the distinct labels (first on ties) the gold label? [P]
    static func labelCorrect(rows: SetRows, space: LabelSpace) -> [Bool] {
        let width = rows.info.labelIDs.count
        let columns = space.tokens.map { rows.info.labelIDs.firstIndex(of: $0)! }
        return (0..<rows.count).map { prompt in
            var best = 0, bestLogit = -Float.infinity
            for (label, column) in columns.enumerated() {
                let logit = rows.labelLogits[prompt * width + column]
                if logit > bestLogit { best = label; bestLogit = logit }
            }
            return best == space.goldIndex[prompt]
        }
    }
}

/// Everything a report says about one prompt set.
public struct SetAnalysis: Sendable {
    public let scores: SetScores
    public let behaviour: SetBehaviour
    public let topTR: HeadSet
    public let topTL: HeadSet
    public let trBootstrap: HeadBootstrap
    public let tlBootstrap: HeadBootstrap
    /// Its top set is the one `icl-analyze heads --score dla --set` selects (docs/methods.md §12).
    public let dlaGoldBootstrap: HeadBootstrap
    /// No top set (topCount 0).
    public let dlaMarginBootstrap: HeadBootstrap
    /// Columns [L*H, C]: head j's mass on category c is column j * C + c (KeyCategory.rawValue); no top set.
    public let attentionBootstrap: HeadBootstrap
    public let randomSets: [HeadSet]
    public let ablation: [AblationEstimate]
    public let geometry: [GeometryContribution]
    /// The dump's exact ablation runs on this set (docs/methods.md §14), in run-name order.
    public let exactAblations: [ExactAblation]
    /// Direct-effect estimates against the exact total effects (§18.3).
    public let estimateVsTruth: EstimateVsTruth
    /// Shuffled-labels sets with a CIE run: its exact results (§18.2).
    public let exactCIE: ExactCIE?
    /// First-order estimates from the dump's gradients and their comparison with the exact runs (§20).
    public let attribution: SetAttribution

    public var info: SetInfo { scores.rows.info }
}
