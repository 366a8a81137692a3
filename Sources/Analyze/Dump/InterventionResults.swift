import Foundation
import Shared

// Legend: P = done prompts of a set (SetRows order), S = head sets of an ablation run (entry 0
// "none"), Y = entries of the set's label_ids, L = layers, H = heads.

/// Where each done prompt of a set sits in each file: file -> row -> slot in SetRows order.
struct PromptSlots {
    let slots: [[Int: Int]]

    init(rows: SetRows, files: Int) {
        var slots = [[Int: Int]](repeating: [:], count: files)
        for (slot, location) in rows.locations.enumerated() { slots[location.file][location.row] = slot }
        self.slots = slots
    }

    /// Reads one run's rows of a set from every file holding the run: `body(file, row, slot)`
    /// for each row the run finished. A finished run row must be a finished capture row.
    func forEachDone(run: InterventionRun, set: String, dump: ShardedDump,
                     _ body: (DumpFile, Int, Int) throws -> Void) throws -> Int {
        var count = 0
        let group = "interventions/\(run.name)/sets/\(set)"
        for (f, file) in dump.files.enumerated() where run.files.contains(file.path) {
            let done = try file.read(group + "/done", as: UInt8.self)
            for (row, flag) in done.enumerated() {
                guard flag <= 1 else { throw InputError(file: file.path, "/\(group)/done[\(row)] is \(flag); done flags are 0 or 1") }
                guard flag == 1 else { continue }
                guard let slot = slots[f][row] else {
                    throw InputError(file: file.path, "/\(group) row \(row) is done but /sets/\(set) row \(row) is not")
                }
                try body(file, row, slot)
                count += 1
            }
        }
        guard count > 0 else {
            throw InputError(file: run.files[0], "/\(group) has no finished row (every done flag is 0): rerun the same icl-capture intervene command to finish it")
        }
        return count
    }
}

/// An ablation run's exact results on one set (docs/methods.md §14), in SetRows order; rows the
/// run did not finish are NaN (`done` false).
public struct ExactAblation: Sendable {
    public let run: InterventionRun
    public let done: [Bool]                 // [P]
    public let goldLogprob: [Float]         // [P, S]
    public let correct: [Float]             // [P, S] 0 or 1
    /// Classification sets: [P, S] 0 or 1; nil for open-answer sets.
    public let inLabelSet: [Float]?
    public let labelLogits: [Float]         // [P, S, Y]
    /// The clean set behind the replacement means ("" for zero ablation), whether each prompt's
    /// mean left the prompt out, and the prompt_index values of the mean's prompts in each file
    /// holding the run (a shard's run takes its mean over the shard's own clean prompts).
    public let meanSet: String
    public let meanLeaveOneOut: Bool
    public let meanPromptIndex: [[Int32]]
    /// The same, by the index in the dump's files of the file holding them.
    public let meanPromptIndexByFile: [Int: [Int32]]
    public let prompts: Int

    public var headSetCount: Int { run.headSets.count }

    init(run: InterventionRun, set: String, rows: SetRows, slots: PromptSlots, dump: ShardedDump) throws {
        let group = "interventions/\(run.name)/sets/\(set)"
        let p = rows.count, s = run.headSets.count, y = rows.info.labelIDs.count
        let classification = rows.info.kind == .classification
        var done = [Bool](repeating: false, count: p)
        var goldLogprob = [Float](repeating: .nan, count: p * s), correct = goldLogprob, inLabelSet = goldLogprob
        var labelLogits = [Float](repeating: .nan, count: p * s * y)
        var meanSet: String?, leaveOneOut: Bool?, meanIndex: [[Int32]] = [], meanIndexByFile: [Int: [Int32]] = [:]
        var cache: (path: String, values: [String: [Float]])?
        func column(_ file: DumpFile, _ name: String) throws -> [Float] {
            if cache?.path != file.path { cache = (file.path, [:]) }
            if let values = cache!.values[name] { return values }
            let path = group + "/" + name
            guard file.has(path) else { throw InputError(file: file.path, "dataset /\(path) is missing (an ablation run stores it)") }
            let values: [Float]
            switch name {
            case "argmax": values = try file.read(path, as: Int32.self).map(Float.init)
            case "correct", "in_label_set": values = try file.read(path, as: UInt8.self).map(Float.init)
            default: values = try file.read(path, as: Float.self)
            }
            cache!.values[name] = values
            return values
        }
        prompts = try slots.forEachDone(run: run, set: set, dump: dump) { file, row, slot in
            if meanSet == nil || cache?.path != file.path {
                let fileMeanSet = try file.stringAttribute("mean_set", of: group)
                let fileLeaveOneOut = try file.intAttribute("mean_leave_one_out", of: group) == 1
                guard meanSet == nil || (meanSet == fileMeanSet && leaveOneOut == fileLeaveOneOut) else {
                    throw InputError(file: file.path, "/\(group) takes its means from another set than in \(run.files[0])")
                }
                meanSet = fileMeanSet
                leaveOneOut = fileLeaveOneOut
                let fileIndex = file.has(group + "/mean_prompt_index") ? try file.read(group + "/mean_prompt_index", as: Int32.self) : []
                meanIndex.append(fileIndex)
                if let f = dump.files.firstIndex(where: { $0.path == file.path }) { meanIndexByFile[f] = fileIndex }
            }
            let fail = { (what: String) in InputError(file: file.path, "/\(group) row \(row): \(what)") }
            let cells = AnswerMetricCells(prefix: "", goldLogprob: try column(file, "gold_logprob"), correct: try column(file, "correct"),
                                          argmax: try column(file, "argmax"),
                                          inLabelSet: classification ? try column(file, "in_label_set") : nil,
                                          labelLogits: try column(file, "label_logits"))
            try cells.copy(row: row, cells: s, labels: y, to: slot, fail: fail, goldLogprob: &goldLogprob, correct: &correct,
                           inLabelSet: &inLabelSet, labelLogits: &labelLogits)
            done[slot] = true
        }
        self.run = run
        self.done = done
        self.goldLogprob = goldLogprob
        self.correct = correct
        self.inLabelSet = classification ? inLabelSet : nil
        self.labelLogits = labelLogits
        self.meanSet = meanSet ?? ""
        meanLeaveOneOut = leaveOneOut ?? false
        meanPromptIndex = meanIndex
        meanPromptIndexByFile = meanIndexByFile
    }
}

/// A CIE run's exact results on one shuffled-labels set (docs/methods.md §10.1, §14), in SetRows
/// order; rows the run did not finish are NaN (`done` false).
public struct ExactCIE: Sendable {
    public let run: InterventionRun
    public let done: [Bool]                 // [P]
    public let cie: [Float]                 // [P, L*H]
    public let corruptedGoldProb: [Float]   // [P]
    public let meanSet: String
    public let prompts: Int

    init(run: InterventionRun, set: String, rows: SetRows, slots: PromptSlots, dump: ShardedDump, heads n: Int) throws {
        let group = "interventions/\(run.name)/sets/\(set)"
        let p = rows.count
        var done = [Bool](repeating: false, count: p)
        var cie = [Float](repeating: .nan, count: p * n), corrupted = [Float](repeating: .nan, count: p)
        var meanSet = ""
        var loaded: (path: String, cie: [Float], corrupted: [Float])?
        prompts = try slots.forEachDone(run: run, set: set, dump: dump) { file, row, slot in
            if loaded?.path != file.path {
                for name in ["cie", "corrupted_gold_prob"] where !file.has(group + "/" + name) {
                    throw InputError(file: file.path, "dataset /\(group)/\(name) is missing (a CIE run stores it)")
                }
                loaded = (file.path, try file.read(group + "/cie", as: Float.self), try file.read(group + "/corrupted_gold_prob", as: Float.self))
                meanSet = try file.stringAttribute("mean_set", of: group)
            }
            let values = loaded!.cie[row * n ..< (row + 1) * n], probability = loaded!.corrupted[row]
            // A difference of two probabilities lies in [-1, 1].
            guard probability.isFinite, (0...1).contains(probability), values.allSatisfy({ $0.isFinite && abs($0) <= 1 }) else {
                throw InputError(file: file.path, "/\(group) row \(row): cie or corrupted_gold_prob is not a probability (difference)")
            }
            cie.replaceSubrange(slot * n ..< (slot + 1) * n, with: values)
            corrupted[slot] = probability
            done[slot] = true
        }
        self.run = run
        self.done = done
        self.cie = cie
        corruptedGoldProb = corrupted
        self.meanSet = meanSet
    }

    /// Mean over the finished prompts of each head's CIE: [L*H]
    public var meanCIE: [Double] {
        let n = cie.count / max(done.count, 1)
        var total = [Double](repeating: 0, count: n)
        for p in done.indices where done[p] { for j in 0..<n { total[j] += Double(cie[p * n + j]) } }
        return total.map { $0 / Double(prompts) }
    }
}
