import Foundation

/// Full-vocabulary statistics of one row of logits, each in one pass over the row.
public enum LogitStatistics {
    /// log(sum(exp(logits))), accumulated in Double: a token's log-probability is
    /// Float(Double(logit) - logSumExp), which keeps small log-probabilities' digits.
    public static func logSumExp(_ logits: ArraySlice<Float>) -> Double {
        let maximum = Double(logits.max() ?? 0)
        return log(logits.reduce(0.0) { $0 + exp(Double($1) - maximum) }) + maximum
    }

    /// Indices (from 0) of the `count` largest logits, largest first; lower index first on ties.
    public static func topIndices(_ logits: ArraySlice<Float>, count: Int) -> [Int] {
        let base = logits.startIndex
        var top: [Int] = []   // absolute indices, best first
        top.reserveCapacity(count + 1)
        for i in logits.indices {
            let value = logits[i]
            if top.count == count, let worst = top.last, value <= logits[worst] { continue }
            // After every equal value already kept, so that earlier indices stay ahead on ties.
            let position = top.firstIndex { logits[$0] < value } ?? top.count
            top.insert(i, at: position)
            if top.count > count { top.removeLast() }
        }
        return top.map { $0 - base }
    }
}
