import Shared

// Legend: N = tokens of the packed batch, B = sequences, D = d_model, V = vocabulary, L = layers.

/// One prompt of a gradient pass: its tokens (from position 0, no KV cache) and what its
/// metric is scored against.
public struct GradientPrompt: Sendable {
    public var tokens: [Int32]
    public var target: MetricTarget

    public init(tokens: [Int32], target: MetricTarget) {
        self.tokens = tokens
        self.target = target
    }
}

public struct GradientPassOutput {
    /// The forward pass's logits at each prompt's last token ([B, V], `.last`).
    public let forward: ForwardOutput
    /// The metric of each prompt, in prompt order.
    public let metricValues: [Double]
}

extension Transformer {
    /// The gradients of `metric` at each prompt's answer position (its last token) with respect
    /// to the requested hook points, through every layer (docs/methods.md §19). One packed forward
    /// pass keeps resid_pre and resid_mid of every layer; the reverse pass then recomputes each
    /// block's internals from them (BlockBackward). `hooks` run during that forward pass as in
    /// `forward`; they must only read (a write would not be seen by the recomputation).
    /// Gradients reach `receive` from the last layer down: resid_final, then per layer z,
    /// attention patterns and resid_pre.
    public func gradients(of metric: AnswerMetric, prompts: [GradientPrompt], request: GradientRequest,
                          hooks: Hooks? = nil, receive: (GradientTensor) -> Void) throws -> GradientPassOutput {
        try request.validate(layers: config.layerCount)
        for (b, prompt) in prompts.enumerated() {
            do { try metric.validate(prompt.target, vocabularySize: config.vocabularySize) } catch let error as InputError {
                throw InputError(file: error.file, "prompt \(b): \(error.problem)")
            }
        }
        let lowest = request.points.compactMap(\.layerIndex).min() ?? config.layerCount
        let n = prompts.reduce(0) { $0 + $1.tokens.count }, d = config.hiddenSize
        let stored = config.layerCount - lowest

        // Forward, keeping what the reverse pass reads: resid_pre and resid_mid of the layers
        // it goes through ([L - lowest, N, D] each) and resid_final [N, D].
        let residPre = FloatBuffer(count: stored * n * d), residMid = FloatBuffer(count: stored * n * d)
        let residFinal = FloatBuffer(count: n * d)
        let passHooks = hooks?.copy() ?? Hooks()
        for l in lowest..<config.layerCount {
            let offset = (l - lowest) * n * d
            passHooks.add(.residPre(l)) { (residPre.pointer + offset).update(from: $0.values.baseAddress!, count: n * d) }
            passHooks.add(.residMid(l)) { (residMid.pointer + offset).update(from: $0.values.baseAddress!, count: n * d) }
        }
        passHooks.add(.residFinal) { residFinal.pointer.update(from: $0.values.baseAddress!, count: n * d) }
        let output = try forward(prompts.map { SequenceInput(tokens: $0.tokens) }, logits: .last, hooks: passHooks)
        let layout = output.layout

        // Metric -> dM/dlogits [B, V] -> dM/d resid_final [N, D] (zero except at answer rows).
        let v = config.vocabularySize, count = prompts.count
        let dLogits = FloatBuffer(count: count * v)
        var values: [Double] = []
        for (b, prompt) in prompts.enumerated() {
            let (value, gradient) = metric.evaluate(logits: output.lastLogits(of: b), target: prompt.target)
            values.append(value)
            gradient.withUnsafeBufferPointer { (dLogits.pointer + b * v).update(from: $0.baseAddress!, count: v) }
        }
        let g = FloatBuffer(count: n * d)
        finalNormBackward(dLogits: dLogits.pointer, residFinal: residFinal.pointer, layout: layout, into: g.pointer)
        if request.points.contains(.residFinal) {
            receive(GradientTensor(point: .residFinal, shape: [n, d],
                                   values: UnsafeBufferPointer(start: g.pointer, count: n * d), layout: layout,
                                   sequence: nil))
        }

        let block = BlockBackward(config: config, norm: norm, rope: RotaryEmbedding(config: config, frequencyFactors: weights.ropeFrequencyFactors),
                                  localRope: config.localRopeTheta.map {
                                      RotaryEmbedding(config: config, frequencyFactors: weights.ropeFrequencyFactors, theta: $0)
                                  }, layout: layout)
        for l in stride(from: config.layerCount - 1, through: lowest, by: -1) {
            let offset = (l - lowest) * n * d
            block.run(weights.layers[l], products: products[l], index: l, residPre: residPre.pointer + offset,
                      residMid: residMid.pointer + offset, g: g.pointer, request: request, receive: receive)
        }
        return GradientPassOutput(forward: output, metricValues: values)
    }

    /// Reverse of the final norm and the unembedding at each sequence's last row (the norm's
    /// statistics, recomputed from resid_final, are differentiated too, not frozen).
    /// dLogits: [B, V]; residFinal: [N, D] -> g: [N, D], zero outside the answer rows.
    private func finalNormBackward(dLogits: UnsafePointer<Float>, residFinal: UnsafePointer<Float>,
                                   layout: BatchLayout, into g: UnsafeMutablePointer<Float>) {
        let d = config.hiddenSize, v = config.vocabularySize, count = layout.sequences.count
        let rows = layout.sequences.map { $0.rowStart + $0.tokenCount - 1 }
        let dNormed = FloatBuffer(count: count * d)   // [B, D] = dLogits · W_U
        BLAS.matmul(dLogits, lda: v, weights.unembedding.pointer, ldb: d, dNormed.pointer, ldc: d, m: count, n: d, k: v)
        let x = FloatBuffer(count: count * d)                                        // [B, D]
        let rowScales = FloatBuffer(count: count), rowMeans = FloatBuffer(count: count)  // [B]
        let dx = FloatBuffer(count: count * d)
        for (b, r) in rows.enumerated() { (x.pointer + b * d).update(from: residFinal + r * d, count: d) }
        norm.statistics(x.pointer, rows: count, width: d, scale: rowScales.pointer, mean: rowMeans.pointer)
        norm.backward(x.pointer, scale: rowScales.pointer, mean: rowMeans.pointer, gamma: weights.finalNorm,
                      dy: dNormed.pointer, rows: count, width: d, addingInto: dx.pointer)
        for (b, r) in rows.enumerated() { (g + r * d).update(from: dx.pointer + b * d, count: d) }
    }
}

extension HookPoint {
    /// The layer of a per-layer point; nil for resid_final, the final scale and the logits.
    var layerIndex: Int? {
        switch self {
        case .residPre(let l), .z(let l), .attnPattern(let l), .attnLastQuery(let l), .attnOut(let l),
             .attnPostNormScale(let l), .residMid(let l), .mlpOut(let l): l
        case .residFinal, .finalNormScale, .logits: nil
        }
    }
}
