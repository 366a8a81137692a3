import Foundation
import Shared

// Legend: P = done prompts of the set, V = steering vectors ("none" first), S = steering layers.

/// A steering run's effect on one set per vector and layer (docs/methods.md §21.1): §8's
/// accuracy, label-set ratio and label-restricted accuracy with Wilson intervals, the mean gold
/// log-probability, and each one's change from "none" on the same prompts with a percentile
/// bootstrap interval of the per-prompt differences; counted over the prompts outside the
/// vector's scoring queries and over all prompts.
public struct SteeringSummary: Sendable {
    public enum Scope: String, Sendable, CaseIterable {
        case outsideScoring = "outside_scoring"
        case allPrompts = "all_prompts"
    }

    public struct Row: Sendable {
        public let vector: Int
        /// Index into the run's layers.
        public let layer: Int
        public let scope: Scope
        public let prompts: Int
        public let accuracy: SetBehaviour.Measure
        /// nil for open-answer sets.
        public let labelSetRatio: SetBehaviour.Measure?
        public let labelAccuracy: SetBehaviour.Measure
        public let meanGoldLogprob: SetBehaviour.Measure
        public let deltaAccuracy: SetBehaviour.Measure
        public let deltaLabelSetRatio: SetBehaviour.Measure?
        public let deltaLabelAccuracy: SetBehaviour.Measure
        public let deltaGoldLogprob: SetBehaviour.Measure
    }

    public let set: String
    public let results: SteeringResults
    /// Per vector, layer and scope with at least one prompt.
    public let rows: [Row]

    init(results: SteeringResults, set: String, space: LabelSpace, labelIDs: [Int32], replicates: Int, seed: UInt64) {
        self.set = set
        self.results = results
        let vectors = results.vectors, v = vectors.count, s = vectors.layers.count, y = labelIDs.count
        let columns = space.tokens.map { labelIDs.firstIndex(of: $0)! }
        // Per prompt and cell (vector, layer): is the label argmax (first on ties) the gold label?
        let labelCorrect: [Float] = stride(from: 0, to: results.labelLogits.count, by: y).map { start in
            let prompt = start / (y * v * s)
            var best = 0
            for (label, column) in columns.enumerated() where results.labelLogits[start + column] > results.labelLogits[start + columns[best]] {
                best = label
            }
            return best == space.goldIndex[prompt] ? 1 : 0
        }
        var rows: [Row] = []
        for vector in 0..<v {
            for layer in 0..<s {
                for scope in Scope.allCases {
                    let prompts = results.done.indices.filter {
                        results.done[$0] && (scope == .allPrompts || results.outsideScoring[$0 * v + vector])
                    }
                    guard !prompts.isEmpty else { continue }
                    let cell = vector * s + layer, base = layer
                    func values(_ array: [Float], _ at: Int) -> [Double] { prompts.map { Double(array[$0 * v * s + at]) } }
                    func deltas(_ array: [Float]) -> [Double] { zip(values(array, cell), values(array, base)).map { $0 - $1 } }
                    func proportion(_ array: [Float]) -> SetBehaviour.Measure {
                        let hits = Int(values(array, cell).reduce(0, +))
                        return .init(value: Double(hits) / Double(prompts.count), interval: Interval.wilson(successes: hits, trials: prompts.count))
                    }
                    func mean(_ sample: [Double], _ metric: String) -> SetBehaviour.Measure {
                        let key = "\(results.run.name) \(set) \(vector) \(layer) \(scope.rawValue) \(metric)"
                        return .init(value: sample.reduce(0, +) / Double(sample.count),
                                     interval: Interval.bootstrapMean(sample, replicates: replicates, seed: SplitMix64.derive(seed, SplitMix64.fnv1a(key))))
                    }
                    rows.append(Row(vector: vector, layer: layer, scope: scope, prompts: prompts.count,
                                    accuracy: proportion(results.correct), labelSetRatio: results.inLabelSet.map(proportion),
                                    labelAccuracy: proportion(labelCorrect), meanGoldLogprob: mean(values(results.goldLogprob, cell), "gold_logprob"),
                                    deltaAccuracy: mean(deltas(results.correct), "delta_accuracy"),
                                    deltaLabelSetRatio: results.inLabelSet.map { mean(deltas($0), "delta_label_set_ratio") },
                                    deltaLabelAccuracy: mean(deltas(labelCorrect), "delta_label_accuracy"),
                                    deltaGoldLogprob: mean(deltas(results.goldLogprob), "delta_gold_logprob")))
                }
            }
        }
        self.rows = rows
    }

    /// The run's random vectors' spread of `value` at a layer and scope (none: nil).
    public func randomSpread(layer: Int, scope: Scope, _ value: (Row) -> Double) -> ExactAblationSummary.Spread? {
        ExactAblationSummary.Spread(rows.filter {
            $0.layer == layer && $0.scope == scope && results.vectors.families[$0.vector] == HeadSetFamily.random
        }.map(value))
    }

    /// The scope the report's figure shows: outside the scoring queries when every vector
    /// but "none" has such prompts, else all prompts.
    public var shownScope: Scope {
        let vectors = 1..<results.vectors.count
        return vectors.allSatisfy { v in rows.contains { $0.vector == v && $0.scope == .outsideScoring } } ? .outsideScoring : .allPrompts
    }
}
