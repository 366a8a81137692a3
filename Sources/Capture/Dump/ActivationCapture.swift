import Shared

// Legend: B = prompts in the batch, C = captured positions, L = layers, H = heads, E = head_dim,
// D = d_model, T = the set's longest prompt, S = one prompt's keys.

/// Hooks that copy, during one packed forward pass over B prompts of a set, exactly what the
/// dump keeps: z and the residual stream at the captured positions, the final-norm scale (and
/// the attention output norm's, for models with one), and the attention row of the answer position.
final class ActivationCapture {
    let hooks = Hooks()
    private(set) var rows = CapturedRows()

    /// positions[b]: token indices captured for prompt b (the answer position first).
    init(config: ModelConfig, positions: [[Int]], maxTokens: Int) {
        let b = positions.count, c = positions.first?.count ?? 1
        let l = config.layerCount, h = config.headCount, e = config.headDim, d = config.hiddenSize
        rows.z = [Float](repeating: 0, count: b * c * l * h * e)
        rows.resid = [Float](repeating: 0, count: b * c * (l + 1) * d)
        rows.finalNormScale = [Float](repeating: 0, count: b * c)
        let outputNorm = config.architecture.normsBlockOutputs
        rows.attentionOutputScale = [Float](repeating: 0, count: outputNorm ? b * c * l : 0)
        rows.attention = [Float](repeating: 0, count: b * l * h * maxTokens)

        for layer in 0..<l {
            hooks.add(.z(layer)) { [unowned self] tensor in
                copy(tensor, positions, width: h * e, into: \.z) { prompt, position in ((prompt * c + position) * l + layer) * h * e }
            }
            if outputNorm {
                hooks.add(.attnPostNormScale(layer)) { [unowned self] tensor in
                    copy(tensor, positions, width: 1, into: \.attentionOutputScale) { prompt, position in (prompt * c + position) * l + layer }
                }
            }
            hooks.add(.residPre(layer)) { [unowned self] tensor in
                copy(tensor, positions, width: d, into: \.resid) { prompt, position in ((prompt * c + position) * (l + 1) + layer) * d }
            }
            hooks.add(.attnLastQuery(layer)) { [unowned self] tensor in
                // tensor: [H, S_b], the answer position's row of every head.
                guard let prompt = tensor.sequence else { return }
                let keys = tensor.shape[1]
                for head in 0..<h {
                    let to = ((prompt * l + layer) * h + head) * maxTokens
                    for k in 0..<keys { rows.attention[to + k] = tensor.values[head * keys + k] }
                }
            }
        }
        hooks.add(.residFinal) { [unowned self] tensor in
            copy(tensor, positions, width: d, into: \.resid) { prompt, position in ((prompt * c + position) * (l + 1) + l) * d }
        }
        hooks.add(.finalNormScale) { [unowned self] tensor in
            copy(tensor, positions, width: 1, into: \.finalNormScale) { prompt, position in prompt * c + position }
        }
    }

    /// Copies `width` values of the packed rows at each prompt's captured positions into the
    /// staged rows, at `destination(prompt, position)`.
    private func copy(_ tensor: HookTensor, _ positions: [[Int]], width: Int,
                      into field: WritableKeyPath<CapturedRows, [Float]>, destination: (Int, Int) -> Int) {
        rows[keyPath: field].withUnsafeMutableBufferPointer { target in
            for (prompt, span) in tensor.layout.sequences.enumerated() {
                for (position, token) in positions[prompt].enumerated() {
                    let source = tensor.values.baseAddress! + (span.rowStart + token) * width
                    (target.baseAddress! + destination(prompt, position)).update(from: source, count: width)
                }
            }
        }
    }
}

/// Hooks that keep every layer's full attention patterns of a probe batch: [B, L, H, T, T].
final class PatternCapture {
    let hooks = Hooks()
    private(set) var patterns: [Float]

    init(config: ModelConfig, prompts: Int, maxTokens t: Int) {
        let l = config.layerCount, h = config.headCount
        patterns = [Float](repeating: 0, count: prompts * l * h * t * t)
        for layer in 0..<l {
            hooks.add(.attnPattern(layer)) { [unowned self] tensor in
                guard let prompt = tensor.sequence else { return }
                let queries = tensor.shape[1], keys = tensor.shape[2]
                for head in 0..<h {
                    for q in 0..<queries {
                        let from = (head * queries + q) * keys
                        let to = (((prompt * l + layer) * h + head) * t + q) * t
                        for k in 0..<keys { patterns[to + k] = tensor.values[from + k] }
                    }
                }
            }
        }
    }
}
