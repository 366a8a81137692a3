import Foundation
import Shared

// Legend: P = done prompts of the set, S = head sets of the run ("none" first).

/// An fv_vs_induction run's ablation curves on one set (docs/methods.md §21.3): per head set,
/// the first token's accuracy (Wilson interval), the mean token F1 of the greedy continuation and
/// the mean gold log-probability (percentile bootstrap intervals), each one's change from
/// "none"; per k, the same over the run's random sets (mean, 5th and 95th percentile).
public struct FVInductionSummary: Sendable {
    public struct Row: Sendable {
        public let headSet: HeadSet
        public let family: String
        public let percent: Double
        public let accuracy: SetBehaviour.Measure
        public let meanF1: SetBehaviour.Measure
        public let meanGoldLogprob: SetBehaviour.Measure
        public let deltaAccuracy: Double
        public let deltaF1: Double
        public let deltaGoldLogprob: Double
    }

    public let set: String
    public let results: FVInductionResults
    /// Every head set in stored order, "none" first.
    public let rows: [Row]

    init(results: FVInductionResults, set: String, replicates: Int, seed: UInt64) {
        self.set = set
        self.results = results
        let exact = results.exact, s = exact.headSetCount
        let done = exact.done.indices.filter { exact.done[$0] }
        func column(_ values: [Float], _ set: Int) -> [Double] { done.map { Double(values[$0 * s + set]) } }
        func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }
        let base = (accuracy: mean(column(exact.correct, 0)), f1: mean(column(results.f1, 0)), logprob: mean(column(exact.goldLogprob, 0)))
        rows = exact.run.headSets.enumerated().map { index, headSet in
            let hits = Int(column(exact.correct, index).reduce(0, +))
            let key = "\(exact.run.name) \(set) \(headSet.name)"
            let f1 = column(results.f1, index), logprob = column(exact.goldLogprob, index)
            let accuracy = Double(hits) / Double(done.count)
            return Row(headSet: headSet, family: results.families.families[index], percent: results.families.percents[index],
                       accuracy: .init(value: accuracy, interval: Interval.wilson(successes: hits, trials: done.count)),
                       meanF1: .init(value: mean(f1), interval: Interval.bootstrapMean(f1, replicates: replicates,
                                                                                        seed: SplitMix64.derive(seed, SplitMix64.fnv1a(key + " f1")))),
                       meanGoldLogprob: .init(value: mean(logprob), interval: Interval.bootstrapMean(logprob, replicates: replicates,
                                                                                                    seed: SplitMix64.derive(seed, SplitMix64.fnv1a(key + " gold_logprob")))),
                       deltaAccuracy: accuracy - base.accuracy, deltaF1: mean(f1) - base.f1, deltaGoldLogprob: mean(logprob) - base.logprob)
        }
    }

    /// The random sets' spread of `value` at k (none: nil).
    public func randomSpread(percent: Double, _ value: (Row) -> Double) -> ExactAblationSummary.Spread? {
        ExactAblationSummary.Spread(rows.filter { $0.family == HeadSetFamily.random && $0.percent == percent }.map(value))
    }

    /// The families of the run's named head sets, in FVInductionFamilies.named order.
    public var namedFamilies: [String] {
        FVInductionFamilies.named.filter { family in rows.contains { $0.family == family } }
    }
}
