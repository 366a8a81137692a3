import Foundation

/// The analyzer's per-prompt metrics (docs/methods.md §8), from the logits of the answer
/// position under an intervention: full-vocabulary gold log-probability, argmax (accuracy:
/// argmax = gold token; label-set ratio: argmax in the label ids) and the label logits.
public struct AnswerMetrics: Sendable, Equatable {
    public let goldLogprob: Float
    /// exp of the log-probability before its rounding to Float.
    public let goldProbability: Double
    public let argmax: Int32
    public let labelLogits: [Float]

    public init(logits: ArraySlice<Float>, gold: Int32, labels: [Int32]) {
        let base = logits.startIndex
        let logprob = gold >= 0 ? Double(logits[base + Int(gold)]) - LogitStatistics.logSumExp(logits) : .nan
        goldLogprob = Float(logprob)
        goldProbability = exp(logprob)
        argmax = Int32(LogitStatistics.topIndices(logits, count: 1)[0])
        labelLogits = labels.map { logits[base + Int($0)] }
    }
}
