import Shared

// Legend: C = cells per row (the head sets of an ablation or FV-vs-induction run; vectors x
// layers of a steering run), Y = entries of the set's label_ids.

/// One row of the per-prompt metrics an intervention run stores (docs/methods.md §14), as read
/// from one file: checked (log-probabilities, 0/1 flags, token ids, finite label logits) and
/// copied into the analyzer's slot of the prompt.
struct AnswerMetricCells {
    /// What the run's dataset names start with: "" (ablation) or "steer_" (steering).
    let prefix: String
    let goldLogprob: [Float]    // [rows, C]
    let correct: [Float]        // [rows, C] 0 or 1
    let argmax: [Float]         // [rows, C] token ids
    /// Classification sets: [rows, C] 0 or 1; nil for open-answer sets.
    let inLabelSet: [Float]?
    let labelLogits: [Float]    // [rows, C, Y]

    func copy(row: Int, cells: Int, labels y: Int, to slot: Int, fail: (String) -> InputError,
              goldLogprob outLogprob: inout [Float], correct outCorrect: inout [Float],
              inLabelSet outMember: inout [Float], labelLogits outLogits: inout [Float]) throws {
        for cell in 0..<cells {
            let at = row * cells + cell, to = slot * cells + cell
            guard goldLogprob[at].isFinite, goldLogprob[at] <= 1e-3 else {
                throw fail("\(prefix)gold_logprob is \(goldLogprob[at]), not a log-probability")
            }
            guard correct[at] == 0 || correct[at] == 1, inLabelSet.map({ $0[at] == 0 || $0[at] == 1 }) ?? true else {
                throw fail("\(prefix)correct or \(prefix)in_label_set is not 0 or 1")
            }
            guard argmax[at] >= 0 else { throw fail("\(prefix)argmax is \(argmax[at]), not a token id") }
            outLogprob[to] = goldLogprob[at]
            outCorrect[to] = correct[at]
            if let inLabelSet { outMember[to] = inLabelSet[at] }
            for label in 0..<y {
                let value = labelLogits[at * y + label]
                guard value.isFinite else { throw fail("\(prefix)label_logits hold a non-finite value") }
                outLogits[to * y + label] = value
            }
        }
    }
}
