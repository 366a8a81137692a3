import Foundation

/// Full-vocabulary statistics of one row of logits.
public enum LogitStatistics {
    /// log softmax, accumulated in Double so that small log-probabilities keep their digits.
    public static func logSoftmax(_ logits: ArraySlice<Float>) -> [Float] {
        let maximum = Double(logits.max() ?? 0)
        let logSum = log(logits.reduce(0.0) { $0 + exp(Double($1) - maximum) }) + maximum
        return logits.map { Float(Double($0) - logSum) }
    }

    /// Indices (from 0) of the `count` largest logits, largest first; lower index first on ties.
    public static func topIndices(_ logits: ArraySlice<Float>, count: Int) -> [Int] {
        let base = logits.startIndex
        return logits.indices
            .sorted { logits[$0] != logits[$1] ? logits[$0] > logits[$1] : $0 < $1 }
            .prefix(count)
            .map { $0 - base }
    }
}
