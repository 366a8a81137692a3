import Foundation
import Shared

/// What a prompt set is (its group's attributes), the same in every file of a capture.
public struct SetInfo: Sendable, Codable {
    public let name: String
    public let task: String
    public let kind: TaskKind
    /// As the dump spells it: clean, shuffled_labels, random_labels, abstract_labels, zero_shot.
    public let variant: String
    public let shots: Int
    public let template: String
    /// Prompts of the whole set (all shards).
    public let promptCount: Int
    public let labels: [String]
    public let labelIDs: [Int32]
}

/// Where one done prompt of a set lives: which file, which row.
public struct PromptLocation: Sendable {
    public let file: Int
    public let row: Int
}

/// The done prompts of a set over every file of a capture, in prompt-index order, with their
/// small per-prompt values. Large rows (z, resid, attention) are streamed by `ActivationReader`.
public struct SetRows: Sendable {
    public let info: SetInfo
    public let locations: [PromptLocation]       // [P]
    public let promptIndex: [Int32]              // [P]
    public let gold: [Int32]                     // [P] index into labelIDs, -1 for open tasks
    public let goldToken: [Int32]                // [P]
    public let goldLogprob: [Float]              // [P]
    public let argmax: [Int32]                   // [P]
    public let labelLogits: [Float]              // [P, labelIDs.count]
    public let finalNormScale: [Float]           // [P] at the answer position
    /// Each layer's attention output norm scale at the answer position, nil when the model
    /// has no such norm (DumpFile.attentionOutputNorm): z times it is what a head writes
    /// through DumpWeights.wO.
    public let attentionOutputScale: [Float]?    // [P, L]
    /// Rows in the files, done or not (a partially done capture is reported as such).
    public let rowsInFiles: Int
    /// Done rows per file, in file order.
    public let donePerFile: [Int]

    public var count: Int { locations.count }

    /// Scales the answer-position z of done prompts in place by their layers' attention output
    /// norm scale (nothing for a model without that norm). z: [rows, L, H*E]; `done` pairs a
    /// row of z with its prompt's slot.
    func applyAttentionOutputScale(to z: UnsafeMutablePointer<Float>, done: [(i: Int, slot: Int)], layers: Int, headWidth: Int) {
        guard let attentionOutputScale else { return }
        for (i, slot) in done {
            for layer in 0..<layers {
                let s = attentionOutputScale[slot * layers + layer], row = z + (i * layers + layer) * headWidth
                for j in 0..<headWidth { row[j] *= s }
            }
        }
    }

    public init(dump: ShardedDump, set name: String) throws {
        let group = "sets/\(name)"
        let first = dump.files[0]
        let kindName = try first.stringAttribute("task_kind", of: group)
        guard let kind = TaskKind(rawValue: kindName) else {
            throw InputError(file: first.path, "/\(group) attribute task_kind is \"\(kindName)\", expected classification or open")
        }
        let labelIDs = try first.read(group + "/label_ids", as: Int32.self)
        let vocabulary = (try? first.intAttribute("vocabulary_size", of: "model")) ?? Int.max
        if let bad = labelIDs.firstIndex(where: { $0 < 0 || Int($0) >= vocabulary }) {
            throw InputError(file: first.path, "/\(group)/label_ids[\(bad)] is \(labelIDs[bad]), not a token id")
        }
        let labels = (try? first.stringsAttribute("labels", of: group)) ?? labelIDs.map { "#\($0)" }
        info = SetInfo(name: name, task: try first.stringAttribute("task", of: group), kind: kind,
                       variant: try first.stringAttribute("variant", of: group),
                       shots: try first.intAttribute("shots", of: group),
                       template: try first.stringAttribute("template", of: group),
                       promptCount: try first.intAttribute("prompt_count", of: group),
                       labels: labels, labelIDs: labelIDs)
        let labelCount = labelIDs.count
        var entries: [(index: Int32, location: PromptLocation, gold: Int32, goldToken: Int32, logprob: Float,
                       argmax: Int32, logits: ArraySlice<Float>, scale: Float, outputScale: ArraySlice<Float>)] = []
        var rowsInFiles = 0, donePerFile: [Int] = []
        for (f, file) in dump.files.enumerated() {
            if f > 0, try file.read(group + "/label_ids", as: Int32.self) != labelIDs {
                throw InputError(file: file.path, "/\(group)/label_ids differ from \(first.path)'s")
            }
            let done = try file.read(group + "/done", as: UInt8.self)
            if let bad = done.firstIndex(where: { $0 > 1 }) {
                throw InputError(file: file.path, "/\(group)/done[\(bad)] is \(done[bad]); done flags are 0 or 1")
            }
            let index = try file.read(group + "/prompt_index", as: Int32.self)
            let gold = try file.read(group + "/gold", as: Int32.self)
            let goldToken = try file.read(group + "/gold_token", as: Int32.self)
            let logprob = try file.read(group + "/gold_logprob", as: Float.self)
            let argmax = try file.read(group + "/argmax", as: Int32.self)
            let logits = try file.read(group + "/label_logits", as: Float.self)
            let positions = file.size("position", in: group)
            let scale = try file.read(group + "/final_norm_scale", as: Float.self)
            let layers = file.size("layer")
            let outputScale = first.attentionOutputNorm ? try file.read(group + "/attention_output_norm_scale", as: Float.self) : []
            rowsInFiles += done.count
            donePerFile.append(done.filter { $0 == 1 }.count)
            for row in done.indices where done[row] == 1 {
                func fail(_ what: String) -> InputError { InputError(file: file.path, "/\(group) row \(row): \(what)") }
                if kind == .classification {
                    guard gold[row] >= 0, Int(gold[row]) < labelCount else { throw fail("gold is \(gold[row]), not an index into \(labelCount) labels") }
                } else if gold[row] != -1 {
                    throw fail("gold is \(gold[row]); open-answer sets store -1")
                }
                guard goldToken[row] >= 0, Int(goldToken[row]) < vocabulary else { throw fail("gold_token is \(goldToken[row]), not a token id") }
                guard argmax[row] >= 0, Int(argmax[row]) < vocabulary else { throw fail("argmax is \(argmax[row]), not a token id") }
                guard logprob[row].isFinite, logprob[row] <= 1e-3 else { throw fail("gold_logprob is \(logprob[row]), not a log-probability") }
                let rowScale = scale[row * positions]
                guard rowScale.isFinite, rowScale > 0 else { throw fail("final_norm_scale is \(rowScale)") }
                let rowLogits = logits[row * labelCount ..< (row + 1) * labelCount]
                guard rowLogits.allSatisfy({ $0.isFinite }) else { throw fail("label_logits hold a non-finite value") }
                let rowOutputScale = outputScale.isEmpty ? [] : outputScale[(row * positions * layers)..<((row * positions + 1) * layers)]
                guard rowOutputScale.allSatisfy({ $0.isFinite && $0 > 0 }) else {
                    throw fail("attention_output_norm_scale holds a value that is not a positive number")
                }
                entries.append((index[row], PromptLocation(file: f, row: row), gold[row], goldToken[row], logprob[row],
                                argmax[row], rowLogits, rowScale, rowOutputScale))
            }
        }
        entries.sort { $0.index < $1.index }
        locations = entries.map(\.location)
        promptIndex = entries.map(\.index)
        gold = entries.map(\.gold)
        goldToken = entries.map(\.goldToken)
        goldLogprob = entries.map(\.logprob)
        argmax = entries.map(\.argmax)
        labelLogits = entries.flatMap(\.logits)
        finalNormScale = entries.map(\.scale)
        attentionOutputScale = first.attentionOutputNorm ? entries.flatMap(\.outputScale) : nil
        self.rowsInFiles = rowsInFiles
        self.donePerFile = donePerFile
    }
}
