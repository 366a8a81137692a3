import Foundation

/// Behaviour of the model on one prompt set, from the dump alone.
public struct SetSummary: Encodable, Sendable {
    public let name: String
    public let taskKind: String
    public let prompts: Int
    public let done: Int
    /// Share of done prompts whose full-vocabulary argmax is the gold answer's first token.
    public let accuracy: Double
    /// Share whose argmax is one of the set's label tokens (classification: the "label-set"
    /// or TR ratio of Yang et al.); nil for open tasks.
    public let labelSetRatio: Double?
    public let meanGoldLogprob: Double

    public static func summarize(_ dump: ShardedDump) throws -> [SetSummary] {
        try dump.setNames.map { name in
            let argmax = try dump.rows(of: name, "argmax")
            let gold = try dump.rows(of: name, "gold_token")
            let logprob = try dump.floatRows(of: name, "gold_logprob")
            let labels = Set(try dump.labelIDs(of: name))
            let kind = try dump.attribute(of: name, "task_kind")
            let done = argmax.indices.filter { argmax[$0].done }
            let count = Double(max(done.count, 1))
            let correct = done.filter { argmax[$0].value == gold[$0].value }.count
            let inLabels = done.filter { labels.contains(argmax[$0].value) }.count
            return SetSummary(name: name, taskKind: kind, prompts: argmax.count, done: done.count,
                              accuracy: Double(correct) / count,
                              labelSetRatio: kind == "classification" ? Double(inLabels) / count : nil,
                              meanGoldLogprob: done.reduce(0.0) { $0 + Double(logprob[$1]) } / count)
        }
    }
}
