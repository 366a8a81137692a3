import Foundation
import Shared

// Legend: P = done prompts of a set (SetRows order), V = steering vectors ("none" first),
// S = steering layers, Y = entries of the set's label_ids.

/// A steering run's results on one set (docs/methods.md §16), in SetRows order; rows the run
/// did not finish are NaN (`done` false).
public struct SteeringResults: Sendable {
    public let run: InterventionRun
    public let vectors: SteeringVectors
    public let done: [Bool]                 // [P]
    public let goldLogprob: [Float]         // [P, V, S]
    public let correct: [Float]             // [P, V, S] 0 or 1
    /// Classification sets: [P, V, S] 0 or 1; nil for open-answer sets.
    public let inLabelSet: [Float]?
    public let labelLogits: [Float]         // [P, V, S, Y]
    /// 1 where the prompt's query is not among the vector's scoring queries: [P, V]
    public let outsideScoring: [Bool]
    public let prompts: Int

    init(run: InterventionRun, vectors: SteeringVectors, set: String, rows: SetRows, slots: PromptSlots, dump: ShardedDump) throws {
        let group = "interventions/\(run.name)/sets/\(set)"
        let p = rows.count, v = vectors.count, s = vectors.layers.count, y = rows.info.labelIDs.count, cell = v * s
        let classification = rows.info.kind == .classification
        var done = [Bool](repeating: false, count: p)
        var goldLogprob = [Float](repeating: .nan, count: p * cell), correct = goldLogprob, inLabelSet = goldLogprob
        var labelLogits = [Float](repeating: .nan, count: p * cell * y)
        var outside = [Bool](repeating: false, count: p * v)
        var loaded: (path: String, values: [String: [Float]])?
        prompts = try slots.forEachDone(run: run, set: set, dump: dump) { file, row, slot in
            if loaded?.path != file.path {
                var values: [String: [Float]] = [:]
                let names = ["steer_gold_logprob", "steer_argmax", "steer_correct", "steer_label_logits", "outside_scoring"]
                    + (classification ? ["steer_in_label_set"] : [])
                for name in names {
                    let path = group + "/" + name
                    guard file.has(path) else { throw InputError(file: file.path, "dataset /\(path) is missing (a steering run stores it)") }
                    switch name {
                    case "steer_argmax": values[name] = try file.read(path, as: Int32.self).map(Float.init)
                    case "steer_correct", "steer_in_label_set", "outside_scoring": values[name] = try file.read(path, as: UInt8.self).map(Float.init)
                    default: values[name] = try file.read(path, as: Float.self)
                    }
                }
                loaded = (file.path, values)
            }
            let values = loaded!.values
            let fail = { (what: String) in InputError(file: file.path, "/\(group) row \(row): \(what)") }
            let away = values["outside_scoring"]!
            for vector in 0..<v {
                guard away[row * v + vector] == 0 || away[row * v + vector] == 1 else { throw fail("outside_scoring is not 0 or 1") }
                outside[slot * v + vector] = away[row * v + vector] == 1
            }
            let cells = AnswerMetricCells(prefix: "steer_", goldLogprob: values["steer_gold_logprob"]!, correct: values["steer_correct"]!,
                                          argmax: values["steer_argmax"]!, inLabelSet: values["steer_in_label_set"],
                                          labelLogits: values["steer_label_logits"]!)
            try cells.copy(row: row, cells: cell, labels: y, to: slot, fail: fail, goldLogprob: &goldLogprob, correct: &correct,
                           inLabelSet: &inLabelSet, labelLogits: &labelLogits)
            done[slot] = true
        }
        self.run = run
        self.vectors = vectors
        self.done = done
        self.goldLogprob = goldLogprob
        self.correct = correct
        self.inLabelSet = classification ? inLabelSet : nil
        self.labelLogits = labelLogits
        outsideScoring = outside
    }
}
