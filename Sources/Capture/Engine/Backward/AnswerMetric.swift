import Foundation
import Shared

/// A scalar read off one sequence's answer position (its last token), the quantity whose
/// gradient the reverse pass computes (docs/methods.md §19.1). Raw values are the names
/// `icl-capture run --grads` takes.
public enum AnswerMetric: String, Sendable, CaseIterable, Codable {
    /// log softmax(logits)[gold] over the full vocabulary.
    case goldLogProbability = "gold-logprob"
    /// softmax(logits)[gold] over the full vocabulary.
    case goldProbability = "gold-prob"
    /// logit(gold) - mean over the other labels y' of logit(y'): the analyzer's dla_margin on
    /// the model's logits. Needs at least one label besides the gold one.
    case labelMargin = "label-margin"

    /// Whether the metric reads a label set (classification sets only).
    public var needsLabels: Bool { self == .labelMargin }

    /// The definition as recorded in dumps and documentation.
    public var definition: String {
        switch self {
        case .goldLogProbability:
            "log softmax(logits)[gold] at the answer position, full vocabulary"
        case .goldProbability:
            "softmax(logits)[gold] at the answer position, full vocabulary"
        case .labelMargin:
            "logit[gold] - mean over the other distinct label first tokens y' of logit[y'] at the answer position"
        }
    }

    /// Checks that `target` can be scored over a vocabulary of `vocabularySize` tokens.
    public func validate(_ target: MetricTarget, vocabularySize: Int) throws {
        let tokens = [target.gold] + target.labels
        if let bad = tokens.first(where: { $0 < 0 || Int($0) >= vocabularySize }) {
            throw InputError(file: nil, "metric \(rawValue): token id \(bad) is outside the vocabulary (0..<\(vocabularySize))")
        }
        if needsLabels && target.wrongLabels.isEmpty {
            throw InputError(file: nil, "metric \(rawValue) needs at least one label other than the gold token \(target.gold)")
        }
    }

    /// The metric's value and its gradient with respect to the answer row's logits.
    /// logits: [V] -> dLogits: [V]. Softmax sums run in Double, as LogitStatistics does.
    func evaluate(logits: ArraySlice<Float>, target: MetricTarget) -> (value: Double, dLogits: [Float]) {
        let base = logits.startIndex, gold = Int(target.gold)
        var gradient = [Float](repeating: 0, count: logits.count)
        switch self {
        case .goldLogProbability, .goldProbability:
            let logSumExp = LogitStatistics.logSumExp(logits)
            let logProbability = Double(logits[base + gold]) - logSumExp
            // d log p_g / d logit_j = [j == g] - p_j; d p_g / d logit_j = p_g ([j == g] - p_j)
            let factor = self == .goldProbability ? exp(logProbability) : 1
            for j in 0..<logits.count {
                let p = exp(Double(logits[base + j]) - logSumExp)
                gradient[j] = Float(factor * ((j == gold ? 1 : 0) - p))
            }
            return (self == .goldProbability ? exp(logProbability) : logProbability, gradient)
        case .labelMargin:
            let wrong = target.wrongLabels
            let share = 1 / Double(wrong.count)
            var value = Double(logits[base + gold])
            gradient[gold] = 1
            for y in wrong {
                value -= share * Double(logits[base + Int(y)])
                gradient[Int(y)] -= Float(share)
            }
            return (value, gradient)
        }
    }
}

/// What one sequence's metric is scored against: the gold answer's first token and, for the
/// label margin, the label set's first tokens (the gold one among them or not).
public struct MetricTarget: Sendable, Equatable {
    public var gold: Int32
    public var labels: [Int32]

    public init(gold: Int32, labels: [Int32] = []) {
        self.gold = gold
        self.labels = labels
    }

    /// The distinct labels other than the gold token, in their first order (docs/methods.md §2).
    public var wrongLabels: [Int32] {
        var seen: Set<Int32> = [gold]
        return labels.filter { seen.insert($0).inserted }
    }
}
