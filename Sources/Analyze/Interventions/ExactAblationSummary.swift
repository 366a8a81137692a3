import Foundation
import Shared

/// An exact ablation run's effect on one set per head set (docs/methods.md §18.4): the §8
/// behaviour measures over the prompts the run finished, their change from the unablated model
/// (head set "none"), and for the other head sets the spread of the same change over the run's
/// random head sets of the same size.
public struct ExactAblationSummary: Sendable {
    public struct Row: Sendable {
        public let headSet: HeadSet
        public let accuracy: Double
        /// nil for open-answer sets.
        public let labelSetRatio: Double?
        public let labelAccuracy: Double
        public let meanGoldLogprob: Double
        public let deltaAccuracy: Double
        public let deltaLabelSetRatio: Double?
        public let deltaLabelAccuracy: Double
        public let deltaGoldLogprob: Double
        /// The report's top sets of this set and dump with exactly these heads.
        public let sameHeadsAs: [String]
    }

    /// mean, 5th and 95th percentile (numpy's linear rule) of a change over random head sets.
    public struct Spread: Sendable {
        public let sets: Int
        public let mean: Double
        public let p05: Double
        public let p95: Double

        init?(_ values: [Double]) {
            guard !values.isEmpty, let p05 = Summary.quantile(values, 0.05), let p95 = Summary.quantile(values, 0.95) else { return nil }
            sets = values.count
            mean = values.reduce(0, +) / Double(values.count)
            self.p05 = p05
            self.p95 = p95
        }
    }

    public let exact: ExactAblation
    public let rows: [Row]

    init(exact: ExactAblation, space: LabelSpace, labelIDs: [Int32], topSets: [HeadSet]) {
        self.exact = exact
        let s = exact.headSetCount, width = labelIDs.count
        let columns = space.tokens.map { labelIDs.firstIndex(of: $0)! }
        let done = exact.done.indices.filter { exact.done[$0] }
        let count = Double(done.count)
        func mean(_ values: [Float], _ set: Int) -> Double { done.reduce(0.0) { $0 + Double(values[$1 * s + set]) } / count }
        func labelAccuracy(_ set: Int) -> Double {
            done.reduce(0.0) { total, prompt in
                let row = (prompt * s + set) * width
                var best = 0
                for (label, column) in columns.enumerated() where exact.labelLogits[row + column] > exact.labelLogits[row + columns[best]] {
                    best = label
                }
                return total + (best == space.goldIndex[prompt] ? 1 : 0)
            } / count
        }
        let base = (accuracy: mean(exact.correct, 0), ratio: exact.inLabelSet.map { mean($0, 0) }, label: labelAccuracy(0),
                    logprob: mean(exact.goldLogprob, 0))
        rows = exact.run.headSets.enumerated().map { set, headSet in
            let accuracy = mean(exact.correct, set), ratio = exact.inLabelSet.map { mean($0, set) }
            let label = labelAccuracy(set), logprob = mean(exact.goldLogprob, set)
            return Row(headSet: headSet, accuracy: accuracy, labelSetRatio: ratio, labelAccuracy: label, meanGoldLogprob: logprob,
                       deltaAccuracy: accuracy - base.accuracy, deltaLabelSetRatio: ratio.flatMap { r in base.ratio.map { r - $0 } },
                       deltaLabelAccuracy: label - base.label, deltaGoldLogprob: logprob - base.logprob,
                       sameHeadsAs: set == 0 ? [] : topSets.filter { $0.heads == headSet.heads }.map(\.name))
        }
    }

    /// The change of `value` over the random head sets of `size` heads (none: nil).
    public func randomSpread(size: Int, _ value: (Row) -> Double) -> Spread? {
        Spread(rows.filter { $0.headSet.kind == .random && $0.headSet.heads.count == size }.map(value))
    }
}
