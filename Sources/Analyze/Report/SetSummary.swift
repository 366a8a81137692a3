import Foundation
import Shared

/// Behaviour of the model on one prompt set, from the dump's stored predictions alone.
public struct SetSummary: Encodable, Sendable {
    public let name: String
    public let taskKind: String
    /// Rows in the files, and how many of them are done.
    public let prompts: Int
    public let done: Int
    /// Done rows per file (shards), in the order the files were given.
    public let donePerFile: [Int]
    /// Share of done prompts whose full-vocabulary argmax is the gold answer's first token.
    public let accuracy: Double
    /// Share whose argmax is one of the set's label tokens (classification: the "label-set"
    /// or TR ratio of Yang et al.); nil for open tasks.
    public let labelSetRatio: Double?
    public let meanGoldLogprob: Double

    public static func summarize(_ dump: ShardedDump) throws -> [SetSummary] {
        try dump.setNames.map { name in
            let rows = try SetRows(dump: dump, set: name)
            let labels = Set(rows.info.labelIDs)
            let count = Double(max(rows.count, 1))
            let correct = rows.argmax.indices.filter { rows.argmax[$0] == rows.goldToken[$0] }.count
            let inLabels = rows.argmax.filter { labels.contains($0) }.count
            return SetSummary(name: name, taskKind: rows.info.kind.rawValue, prompts: rows.rowsInFiles, done: rows.count,
                              donePerFile: rows.donePerFile,
                              accuracy: Double(correct) / count,
                              labelSetRatio: rows.info.kind == .classification ? Double(inLabels) / count : nil,
                              meanGoldLogprob: rows.goldLogprob.reduce(0.0) { $0 + Double($1) } / count)
        }
    }
}
