import Foundation
import Shared

// Legend: P = done prompts of a set (SetRows order), S = head sets of an ablation run, Y = the
// set's label_ids.

/// The analyzer's direct-effect ablation estimates (docs/methods.md §5) next to the exact total
/// effects of the same ablation through the model (§14), prompt by prompt (§18.3). Compared:
/// head sets of answer-position ablation runs, with the same replacement on both sides: zero
/// ablation always; mean ablation only where the exact run's mean is the estimate's, the
/// leave-one-out mean over the set's own prompts (a clean set, captured whole or with its run's
/// means over every shard's prompts).
public struct EstimateVsTruth: Sendable {
    public enum Metric: String, CaseIterable, Sendable {
        /// Logit of the gold label (label-space logits; the estimate's with the final norm recomputed).
        case goldLogit = "gold_logit"
        /// log-softmax of the gold label over the set's distinct labels.
        case goldLogprobLabels = "gold_logprob_labels"
        /// 1 when the label argmax (first on ties) is the gold label.
        case labelCorrect = "label_correct"
        /// Full-vocabulary log-probability of the gold token: the estimate needs --full-unembed.
        case goldLogprobVocab = "gold_logprob_vocab"
    }

    /// One head set of one run: per metric, each prompt's change from the unablated model,
    /// estimated (direct effect) and exact (total effect); NaN where a side has no value.
    public struct HeadSetPairs: Sendable {
        public let run: String
        public let mode: String
        public let headSet: HeadSet
        /// The estimate's head-set name in ablation.csv (a report set with the same heads, or
        /// "<run>:<head set>" added for the comparison).
        public let estimateName: String
        public let estimated: [Metric: [Double]]   // [P] each
        public let exact: [Metric: [Double]]       // [P] each
    }

    /// An ablation run on this set left out of the comparison, and why.
    public struct Skipped: Sendable, Encodable {
        public let run: String
        /// "direct_effect" (§18.3) or "attribution_patching" (§20).
        public let estimate: String
        public let reason: String
    }

    public let pairs: [HeadSetPairs]
    public let skipped: [Skipped]

    /// Whether the exact run replaced heads as the estimate does; nil if so, else why not.
    static func mismatch(_ exact: ExactAblation, rows: SetRows) -> String? {
        guard exact.run.positions == "answer" else {
            return "ablation at every position: the direct-effect estimate is at the answer position only"
        }
        guard exact.run.mode == "mean" else { return nil }
        let all = rows.promptIndex.sorted()
        guard exact.meanSet == rows.info.name, exact.meanLeaveOneOut,
              exact.meanPromptIndex.allSatisfy({ $0.sorted() == all }) else {
            let over = exact.meanPromptIndex.map { String($0.count) }.joined(separator: "+")
            return "the exact mean comes from \(exact.meanSet) (\(over) prompts per file\(exact.meanLeaveOneOut ? ", leave-one-out" : "")), the estimate's is the leave-one-out mean over this set's \(rows.count) prompts"
        }
        return nil
    }

    /// `estimateIndex[r][s]`: the index in the ablation pass's head sets of run r's head set s
    /// (s >= 1), for runs that can be compared.
    init(exact: [ExactAblation], estimateIndex: [[Int?]], estimateNames: [String], perPrompt: AblationPerPrompt,
         rows: SetRows, space: LabelSpace) {
        var pairs: [HeadSetPairs] = [], skipped: [Skipped] = []
        let p = rows.count, width = rows.info.labelIDs.count
        let columns = space.tokens.map { rows.info.labelIDs.firstIndex(of: $0)! }
        for (r, run) in exact.enumerated() {
            if let reason = Self.mismatch(run, rows: rows) {
                skipped.append(Skipped(run: run.run.name, estimate: "direct_effect", reason: reason))
                continue
            }
            let mode = run.run.mode == "zero" ? 0 : 1, s = run.headSetCount
            /// The exact label metrics of prompt `prompt` under head set `set`.
            func labelMetrics(_ prompt: Int, _ set: Int) -> (logit: Double, logprob: Double, correct: Double) {
                let row = (prompt * s + set) * width, gold = space.goldIndex[prompt]
                var best = 0, largest = -Double.infinity
                for (label, column) in columns.enumerated() where Double(run.labelLogits[row + column]) > largest {
                    best = label
                    largest = Double(run.labelLogits[row + column])
                }
                let sum = columns.reduce(0.0) { $0 + exp(Double(run.labelLogits[row + $1]) - largest) }
                let logit = Double(run.labelLogits[row + columns[gold]])
                return (logit, logit - largest - log(sum), best == gold ? 1 : 0)
            }
            for set in 1..<s {
                guard let index = estimateIndex[r][set] else { continue }
                var estimated: [Metric: [Double]] = [:], truth: [Metric: [Double]] = [:]
                for metric in Metric.allCases {
                    estimated[metric] = [Double](repeating: .nan, count: p)
                    truth[metric] = [Double](repeating: .nan, count: p)
                }
                let pairsOfMetric: [(Metric, AblationPerPrompt.Metric)] = [
                    (.goldLogit, .goldLogit), (.goldLogprobLabels, .goldLogprobLabels), (.labelCorrect, .labelCorrect),
                    (.goldLogprobVocab, .goldLogprobVocab),
                ]
                for prompt in 0..<p where run.done[prompt] {
                    for (metric, kept) in pairsOfMetric {
                        if let ablated = perPrompt.value(set: index, mode: mode, prompt: prompt, kept),
                           let baseline = perPrompt.value(set: nil, mode: 0, prompt: prompt, kept) {
                            estimated[metric]![prompt] = ablated - baseline
                        }
                    }
                    let after = labelMetrics(prompt, set), before = labelMetrics(prompt, 0)
                    truth[.goldLogit]![prompt] = after.logit - before.logit
                    truth[.goldLogprobLabels]![prompt] = after.logprob - before.logprob
                    truth[.labelCorrect]![prompt] = after.correct - before.correct
                    truth[.goldLogprobVocab]![prompt] = Double(run.goldLogprob[prompt * s + set]) - Double(run.goldLogprob[prompt * s])
                }
                pairs.append(HeadSetPairs(run: run.run.name, mode: run.run.mode ?? "", headSet: run.run.headSets[set],
                                          estimateName: estimateNames[index], estimated: estimated, exact: truth))
            }
        }
        self.pairs = pairs
        self.skipped = skipped
    }
}
