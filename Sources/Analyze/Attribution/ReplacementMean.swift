import Foundation
import Shared

// Legend: L = layers, H = heads, E = d_head, F = files of the capture.

/// A mean of every head's z at the answer position that an intervention puts in the heads'
/// place (docs/methods.md §20.2), as sums per file: a shard's exact runs take their means over
/// the shard's own prompts, so prompt p of file f is replaced by file f's mean. With
/// `leaveOneOut`, a prompt that is itself among the mean's prompts gets the mean of the others.
struct ReplacementMean {
    /// Per file: the sum of z over the mean's prompts in Double ([L*H*E]), their count, and
    /// their prompt_index values. nil where the file holds none of them.
    let perFile: [(sum: [Double], count: Int, promptIndex: Set<Int32>)?]
    let leaveOneOut: Bool

    /// The leave-one-out mean over a set's own done prompts, pooled over every file: the
    /// direct-effect estimate's mean (§5.1).
    static func ownLeaveOneOut(dump: ShardedDump, rows: SetRows, width: Int) throws -> ReplacementMean {
        let sum = try zSum(dump: dump, set: rows.info.name, locations: rows.locations, width: width)
        let entry = (sum: sum, count: rows.count, promptIndex: Set(rows.promptIndex))
        return ReplacementMean(perFile: dump.files.map { _ in entry }, leaveOneOut: true)
    }

    /// The mean over the done prompts of `set` in each file, or over those whose prompt_index
    /// is in `promptIndex[f]` where given (an exact run's `mean_prompt_index`).
    static func perFile(dump: ShardedDump, set: String, promptIndex: [Int: [Int32]]? = nil, leaveOneOut: Bool,
                        width: Int) throws -> ReplacementMean {
        let rows = try SetRows(dump: dump, set: set)
        var perFile: [(sum: [Double], count: Int, promptIndex: Set<Int32>)?] = []
        for f in dump.files.indices {
            let wanted = promptIndex.map { Set($0[f] ?? []) }
            let chosen = rows.locations.indices.filter { i in
                rows.locations[i].file == f && (wanted?.contains(rows.promptIndex[i]) ?? true)
            }
            if let wanted, chosen.count != wanted.count {
                throw InputError(file: dump.files[f].path, "/sets/\(set) lacks done rows for \(wanted.count - chosen.count) of the prompt_index values an exact run took its mean over")
            }
            guard !chosen.isEmpty else {
                perFile.append(nil)
                continue
            }
            let sum = try zSum(dump: dump, set: set, locations: chosen.map { rows.locations[$0] }, width: width)
            perFile.append((sum, chosen.count, Set(chosen.map { rows.promptIndex[$0] })))
        }
        return ReplacementMean(perFile: perFile, leaveOneOut: leaveOneOut)
    }

    /// Sum over `locations` of z at the answer position, in Double: [L*H*E]
    private static func zSum(dump: ShardedDump, set: String, locations: [PromptLocation], width: Int) throws -> [Double] {
        var sum = [Double](repeating: 0, count: width)
        var row = [Float](repeating: 0, count: width)
        for f in dump.files.indices {
            let mine = locations.filter { $0.file == f }
            guard !mine.isEmpty else { continue }
            let reader = try ActivationReader(file: dump.files[f], dataset: "sets/\(set)/z")
            for location in mine {
                try row.withUnsafeMutableBufferPointer { buffer in
                    try reader.read(rows: location.row ..< location.row + 1, firstPositionOnly: true, into: buffer.baseAddress!)
                }
                for i in 0..<width { sum[i] += Double(row[i]) }
            }
        }
        return sum
    }
}
