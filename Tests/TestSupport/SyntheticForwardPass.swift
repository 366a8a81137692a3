import Foundation
import Shared

// Legend: P = prompts in the chunk, C = captured positions, L = layers, H = heads, E = d_head,
// D = d_model, Y = the set's labels, N = vocabulary rows the logits run over, T = the set's
// longest prompt in the file, K = top-k.

/// A consistent fake forward pass at the captured positions: z and resid[0] random,
/// resid[l + 1] = resid[l] + sum_h a_h + b_O[l] + a random MLP term with a_h = z_h @ W_O[l, h]
/// (times s g of an attention output norm when the model has one), and every
/// derived quantity computed from the values as stored (rounded to float16 first when the
/// dump stores halves), so the analyzer's identities hold to fp32 rounding. A prompt's rows
/// come from its own random streams through `SyntheticKernels`' fixed order of operations,
/// whatever it is computed with: the same bits in every shard and chunking.
struct SyntheticForwardPass {
    let model: SyntheticModel
    let setKey: UInt64
    let seed: UInt64
    let positions: Int
    let labelRows: [Float]                 // [Y, D]: gamma ⊙ w_y
    let labelCount: Int
    let table: SyntheticVocabularyTable
    let tokenSlots: Int                    // T
    let topK: Int
    let halves: Bool
    /// The label heads' push in this set, relative to the model's (0: none).
    let labelPushFactor: Float

    /// Prompts computed together: one head's W_O block (E x D) stays in cache while it is
    /// applied to all of their rows.
    static let blockPrompts = 16

    func run(_ prompts: [SyntheticPrompt]) -> SyntheticRows {
        let rows = SyntheticRows(prompts: prompts.count, positions: positions, model: model.spec, labels: labelCount,
                                 topK: topK, tokenSlots: tokenSlots)
        let blocks = stride(from: 0, to: prompts.count, by: Self.blockPrompts).map { $0..<min($0 + Self.blockPrompts, prompts.count) }
        ComputeThreads.forEach(blocks.count) { b in
            forward(prompts, blocks[b], rows)
            for i in blocks[b] {
                statistics(prompts[i], i, rows)
                attention(prompts[i], SyntheticRows.rows(of: rows.attention, prompt: i, of: prompts.count).baseAddress!)
            }
        }
        return rows
    }

    private func stored(_ x: Float) -> Float { halves ? Float(Float16(x)) : x }

    /// z, the residual stream, the final-norm scale and the label projections of prompts
    /// `block`. Every row goes through the same operations in the same order whatever else
    /// is in the block.
    private func forward(_ prompts: [SyntheticPrompt], _ block: Range<Int>, _ out: SyntheticRows) {
        let m = model.spec, l = m.layers, h = m.heads, e = m.dHead, d = m.dModel, c = positions, y = labelCount
        let rows = (block.lowerBound * c)..<(block.upperBound * c)
        var mlp = [Float](repeating: 0, count: rows.count * l * d)   // [rows, L, D]
        var stream = [Float](repeating: 0, count: rows.count * d)    // [rows, D]
        var headOutput = [Float](repeating: 0, count: d)             // a_h: [D]
        func z(_ row: Int) -> UnsafeMutablePointer<Float> { out.z.baseAddress! + row * l * h * e }
        func resid(_ row: Int) -> UnsafeMutablePointer<Float> { out.resid.baseAddress! + row * (l + 1) * d }
        func headLogits(_ row: Int) -> UnsafeMutablePointer<Float> { out.headLabelLogits.baseAddress! + row * l * h * y }
        model.wO.withUnsafeBufferPointer { wO in
        labelRows.withUnsafeBufferPointer { labels in
        model.outputBiasOrZero.withUnsafeBufferPointer { bias in
        mlp.withUnsafeMutableBufferPointer { mlp in
            for i in block {
                var rng = SplitMix64.synthetic(seed, .activations, setKey, UInt64(prompts[i].index))
                for position in 0..<c {
                    let row = i * c + position, local = row - rows.lowerBound
                    rng.fillNormalish(UnsafeMutableBufferPointer(start: z(row), count: l * h * e), scale: 1)
                    if position == 0, labelPushFactor > 0, let gold = table.foldedRow(of: prompts[i].goldToken) {
                        pushLabelHeads(z(row), toward: gold)
                    }
                    for j in 0..<(l * h * e) { z(row)[j] = stored(z(row)[j]) }
                    rng.fillNormalish(UnsafeMutableBufferPointer(start: resid(row), count: d), scale: 1)
                    for j in 0..<d { resid(row)[j] = stored(resid(row)[j]) }
                    rng.fillNormalish(UnsafeMutableBufferPointer(rebasing: mlp[(local * l * d)..<((local + 1) * l * d)]),
                                      scale: SyntheticModel.mlpScale)
                }
            }
            for layer in 0..<l {
                for row in rows {
                    let local = row - rows.lowerBound
                    for j in 0..<d {
                        stream[local * d + j] = resid(row)[layer * d + j] + mlp[(local * l + layer) * d + j] + bias[layer * d + j]
                    }
                }
                // With an attention output norm, a head writes s g ⊙ (z_h @ W_O) with s the
                // norm's scale of the layer's whole output at that row.
                var gains = [Float](repeating: 0, count: rows.count * d)    // s g per row: [rows, D]
                if let gain = model.outputNormGain {
                    var output = [Float](repeating: 0, count: d)
                    for row in rows {
                        var sum = [Float](repeating: 0, count: d)
                        for head in 0..<h {
                            let lh = layer * h + head
                            SyntheticKernels.rowTimesMatrix(z(row) + lh * e, wO.baseAddress! + lh * e * d, count: e, d: d, into: &output)
                            for j in 0..<d { sum[j] += output[j] }
                        }
                        let meanSquare = sum.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(d)
                        let scale = Float(1 / (meanSquare + m.rmsNormEpsilon).squareRoot())
                        out.outputNormScale[row * l + layer] = scale
                        for j in 0..<d { gains[(row - rows.lowerBound) * d + j] = scale * gain[layer * d + j] }
                    }
                }
                for head in 0..<h {
                    let lh = layer * h + head
                    for row in rows {
                        let local = row - rows.lowerBound
                        SyntheticKernels.rowTimesMatrix(z(row) + lh * e, wO.baseAddress! + lh * e * d, count: e, d: d, into: &headOutput)
                        if model.outputNormGain != nil {
                            for j in 0..<d { headOutput[j] *= gains[local * d + j] }
                        }
                        for label in 0..<y {
                            headLogits(row)[lh * y + label] = SyntheticKernels.dot(headOutput, labels.baseAddress! + label * d, count: d)
                        }
                        for j in 0..<d { stream[local * d + j] += headOutput[j] }
                    }
                }
                for row in rows {
                    let local = row - rows.lowerBound
                    for j in 0..<d { resid(row)[(layer + 1) * d + j] = stored(stream[local * d + j]) }
                }
            }
            for row in rows {
                let final = resid(row) + l * d
                var meanSquare = 0.0
                for j in 0..<d { meanSquare += Double(final[j]) * Double(final[j]) }
                let s = Float(1 / (meanSquare / Double(d) + m.rmsNormEpsilon).squareRoot())
                out.finalNormScale[row] = s
                for j in 0..<(l * h * y) { headLogits(row)[j] *= s }
                let residLogits = out.residLabelLogits.baseAddress! + row * (l + 1) * y
                for layer in 0...l {
                    for label in 0..<y {
                        residLogits[layer * y + label] = s * SyntheticKernels.dot(resid(row) + layer * d, labels.baseAddress! + label * d, count: d)
                    }
                }
                if row % c == 0 {
                    // label_logits: the answer position's resid_final entry, bit for bit.
                    (out.labelLogits.baseAddress! + row / c * y).update(from: residLogits + l * y, count: y)
                }
            }
        }}}}
    }

    /// z_h += labelPushFactor * labelPush * sqrt(E) * u / |u| with u = W_O[l, h] (gamma ⊙ w_gold),
    /// for each label head.
    private func pushLabelHeads(_ z: UnsafeMutablePointer<Float>, toward gold: ArraySlice<Float>) {
        let m = model.spec, h = m.heads, e = m.dHead, d = m.dModel
        gold.withUnsafeBufferPointer { gold in
        model.wO.withUnsafeBufferPointer { wO in
            for head in model.planted.label {
                let lh = head.layer * h + head.head
                let u = (0..<e).map { SyntheticKernels.dot(wO.baseAddress! + (lh * e + $0) * d, gold.baseAddress!, count: d) }
                let norm = u.reduce(0) { $0 + $1 * $1 }.squareRoot()
                guard norm > 0 else { continue }
                let step = labelPushFactor * model.labelPush * Float(e).squareRoot() / norm
                for j in 0..<e { z[lh * e + j] += step * u[j] }
            }
        }}
    }

    /// argmax, top-k and the gold log-probability at the answer position, over the table:
    /// logit_t = s * resid_final · (gamma ⊙ w_t), as label_logits is computed.
    private func statistics(_ prompt: SyntheticPrompt, _ i: Int, _ out: SyntheticRows) {
        let m = model.spec, l = m.layers, d = m.dModel, n = table.ids.count, k = topK
        let final = out.resid.baseAddress! + i * positions * (l + 1) * d + l * d, s = out.finalNormScale[i * positions]
        let logits: [Float] = table.foldedRows.withUnsafeBufferPointer { rows in
            (0..<n).map { s * SyntheticKernels.dot(final, rows.baseAddress! + $0 * d, count: d) }
        }
        let lowest = logits.min() ?? 0
        let unstoredLogit = lowest - SyntheticVocabularyTable.unstoredLogitGap
        let largest = logits.max() ?? unstoredLogit
        var sum = logits.reduce(0.0) { $0 + exp(Double($1 - largest)) }
        sum += Double(table.vocabularySize - n) * exp(Double(unstoredLogit - largest))
        let logZ = Double(largest) + log(sum)
        let goldLogit = table.rowOfToken[prompt.goldToken].map { logits[$0] } ?? unstoredLogit
        out.goldLogprob[i] = Float(Double(goldLogit) - logZ)
        let ranked = Self.largest(k, of: logits)
        let top = ranked.map { (table.ids[$0], logits[$0]) } + table.unstoredIDs.prefix(k - ranked.count).map { ($0, unstoredLogit) }
        out.argmax[i] = top[0].0
        for (rank, (id, logit)) in top.enumerated() {
            out.topIDs[i * k + rank] = id
            out.topLogits[i * k + rank] = logit
        }
    }

    /// Indices of the `k` largest values, largest first; ties go to the lower index (rows are
    /// in token id order, so to the lower id).
    static func largest(_ k: Int, of values: [Float]) -> [Int] {
        var best: [Int] = []
        best.reserveCapacity(k + 1)
        for i in values.indices {
            guard best.count < k || values[i] > values[best[best.count - 1]] else { continue }
            var slot = best.count
            while slot > 0 && values[i] > values[best[slot - 1]] { slot -= 1 }
            best.insert(i, at: slot)
            if best.count > k { best.removeLast() }
        }
        return best
    }

    /// Each head's attention from the answer position: a softmax over the prompt's keys of a
    /// per-head, per-key-category offset plus noise; 0 after the prompt's end.
    private func attention(_ prompt: SyntheticPrompt, _ out: UnsafeMutablePointer<Float>) {   // [L, H, T]
        let heads = model.spec.layers * model.spec.heads, n = prompt.tokens.count
        var rng = SplitMix64.synthetic(seed, .attention, setKey, UInt64(prompt.index))
        for lh in 0..<heads {
            let row = out + lh * tokenSlots
            var largest = -Float.infinity
            for key in 0..<n {
                row[key] = model.attentionBias[lh * SyntheticKeyCategory.count + prompt.categories[key].rawValue] + rng.nextNormalish()
                largest = max(largest, row[key])
            }
            var total: Float = 0
            for key in 0..<n {
                row[key] = exp(row[key] - largest)
                total += row[key]
            }
            for key in 0..<n { row[key] /= total }
        }
    }
}
