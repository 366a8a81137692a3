import Foundation
import Shared

/// per_prompt/SET.csv (`icl-analyze report --per-prompt`): the per-prompt values whose means
/// heads.csv reports (docs/methods.md §3, §4, §6), in long format, one row per prompt x layer x
/// head, with the prompt's own outcome (§8). `prompt_index` is the dump's, so rows join with it.
///
/// A set's table is about 165 bytes per prompt and head (1.1 GB for the 10 GB benchmark
/// dump): it is never held whole. Blocks of prompts are formatted on every core, a wave at a time,
/// and appended in prompt order.
enum PerPromptTables {
    static let folder = "per_prompt"

    static let header = ["set", "prompt_index", "layer", "head", "tr", "tl", "dla_gold", "dla_margin"]
        + ReportTables.attentionColumns.map(\.column) + ["gold_logprob", "correct", "label_correct", "dump"]

    /// Prompts formatted by one task: about 40 KB of text per prompt for a 270-head model.
    private static let promptsPerBlock = 16

    /// Writes every set of every dump into `directory`/per_prompt; returns the files' paths
    /// relative to `directory`, in the order written.
    static func write(_ analyses: [DumpAnalysis], to directory: URL) throws -> [String] {
        try FileManager.default.createDirectory(at: directory.appendingPathComponent(folder), withIntermediateDirectories: true)
        var written: [String] = []
        for (d, analysis) in analyses.enumerated() {
            for set in analysis.sets {
                let stem = (analyses.count > 1 ? "d\(d)_" : "") + set.info.name
                let name = folder + "/" + stem.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_" ? String($0) : "_" }.joined() + ".csv"
                try write(set, dump: analysis.dump.displayName, heads: analysis.heads, to: directory.appendingPathComponent(name))
                written.append(name)
            }
        }
        return written
    }

    private static func write(_ set: SetAnalysis, dump: String, heads: Int, to url: URL) throws {
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw InputError(file: url.path, "cannot be created")
        }
        let file = try FileHandle(forWritingTo: url)
        defer { try? file.close() }
        try file.write(contentsOf: Data(CSVTable.line(header).utf8))
        let s = set.scores
        let labelCorrect = SetBehaviour.labelCorrect(rows: s.rows, space: s.space)
        let fixed = Fixed(set: Array((CSVTable.quoted(set.info.name) + ",").utf8),
                          dump: Array(("," + CSVTable.quoted(dump) + "\r\n").utf8),
                          head: (0..<s.headCount).map { Array("\($0 / heads),\($0 % heads),".utf8) }, labelCorrect: labelCorrect)
        let blocks = (s.prompts + promptsPerBlock - 1) / promptsPerBlock
        let wave = max(1, ComputeThreads.count * 2)
        for first in stride(from: 0, to: blocks, by: wave) {
            var texts = [[UInt8]](repeating: [], count: min(wave, blocks - first))
            texts.withUnsafeMutableBufferPointer { texts in
                ComputeThreads.forEach(texts.count) { i in
                    let start = (first + i) * promptsPerBlock
                    texts[i] = format(prompts: start..<min(start + promptsPerBlock, s.prompts), of: s, fixed)
                }
            }
            for text in texts { try file.write(contentsOf: Data(text)) }
        }
    }

    /// What every row of a set shares, and its per-prompt outcomes.
    private struct Fixed {
        let set: [UInt8]             // the set's field and its comma
        let dump: [UInt8]            // a comma, the dump's field, the line end
        let head: [[UInt8]]          // [L*H]: "layer,head,"
        let labelCorrect: [Bool]     // [P]
    }

    /// The rows of `prompts`, as UTF-8 CSV lines.
    private static func format(prompts: Range<Int>, of s: SetScores, _ fixed: Fixed) -> [UInt8] {
        let n = s.headCount, c = KeyCategory.allCases.count
        var text: [UInt8] = []
        text.reserveCapacity(prompts.count * n * 160)
        func field(_ value: Float) {
            text.append(contentsOf: value.description.utf8)
            text.append(UInt8(ascii: ","))
        }
        for p in prompts {
            let prompt = fixed.set + Array((String(s.rows.promptIndex[p]) + ",").utf8)
            let outcome = Array((s.rows.goldLogprob[p].description + (s.rows.argmax[p] == s.rows.goldToken[p] ? ",1," : ",0,")
                                 + (fixed.labelCorrect[p] ? "1" : "0")).utf8) + fixed.dump
            for j in 0..<n {
                let at = p * n + j
                text.append(contentsOf: prompt)
                text.append(contentsOf: fixed.head[j])
                field(s.tr[at])
                field(s.tl[at])
                field(s.dlaGold[at])
                field(s.dlaMargin[at])
                for category in ReportTables.attentionColumns { field(s.attention[at * c + category.rawValue]) }
                text.append(contentsOf: outcome)
            }
        }
        return text
    }
}
