import Shared

// Legend: N = packed tokens, D = d_model, H = query heads, K = KV heads, E = head_dim,
// W = (H + 2K) * E, F = d_ff. `g` is dM/d(residual stream) at the point the pass has reached.

/// One decoder layer in reverse: the internals the backward needs are recomputed from the
/// layer's stored input (resid_pre) and resid_mid, right beside the backward that reads them,
/// MLP block first, then attention. Scratch buffers are sized once for a batch and reused by
/// every layer, so memory does not grow with depth beyond the two stored residual streams.
final class BlockBackward {
    private let config: ModelConfig
    private let norm: Norm
    private let rope: RotaryEmbedding
    private let attention: AttentionBackward
    private let layout: BatchLayout
    /// Per sequence: cos and sin (for the forward rotation) and -sin (its inverse): [T, E / 2]
    private let rotations: [(cos: [Float], sin: [Float], inverseSin: [Float])]
    /// The same for the sliding-window layers' own RoPE base (Gemma 3).
    private let localRotations: [(cos: [Float], sin: [Float], inverseSin: [Float])]?
    /// Gemma 3: the forward attention (z is needed for the output norm) and the q/k norms.
    private let forwardAttention: CausalAttention
    private let headNorm: HeadNorm

    private let normed: FloatBuffer    // [N, D]
    private let scale: FloatBuffer     // [N]
    private let mean: FloatBuffer      // [N] (LayerNorm)
    private let qkv: FloatBuffer       // [N, W]
    private let gateUp: FloatBuffer    // [N, 2F]; GELU MLP: [N, F] pre-activations
    private let dAct: FloatBuffer      // [N, F]
    private let dGateUp: FloatBuffer   // [N, 2F]; GELU MLP: [N, F]
    private let dNormed: FloatBuffer   // [N, D]
    private let dz: FloatBuffer        // [N, H * E]
    private let dqkv: FloatBuffer      // [N, W]
    /// Parallel residual: the MLP's gradient with respect to resid_pre, held until the
    /// attention block's reverse (which must read dM/d resid_post alone) is done. [N, D]
    private let dMLPInput: FloatBuffer?
    // Gemma 3 only (empty otherwise):
    private let act: FloatBuffer          // [N, F] GeGLU output
    private let z: FloatBuffer            // [N, H * E]
    private let blockOut: FloatBuffer     // [N, D] a block's output before its output norm
    private let dBlockOut: FloatBuffer    // [N, D]
    private let outputScale: FloatBuffer  // [N]
    private let headInput: FloatBuffer    // [N, W] q/k/v before the q/k norms

    init(config: ModelConfig, norm: Norm, rope: RotaryEmbedding, localRope: RotaryEmbedding? = nil, layout: BatchLayout) {
        self.config = config
        self.norm = norm
        self.rope = rope
        self.layout = layout
        attention = AttentionBackward(config: config)
        forwardAttention = CausalAttention(config: config)
        headNorm = HeadNorm(epsilon: config.normEpsilon)
        func tables(_ rope: RotaryEmbedding) -> [(cos: [Float], sin: [Float], inverseSin: [Float])] {
            layout.sequences.map { span in
                let table = rope.table(start: 0, count: span.tokenCount)
                return (table.cos, table.sin, table.sin.map { -$0 })
            }
        }
        rotations = tables(rope)
        localRotations = localRope.map(tables)
        let n = layout.tokenCount, d = config.hiddenSize, f = config.intermediateSize
        let w = (config.headCount + 2 * config.kvHeadCount) * config.headDim
        normed = FloatBuffer(count: n * d)
        scale = FloatBuffer(count: n)
        mean = FloatBuffer(count: n)
        qkv = FloatBuffer(count: n * w)
        gateUp = FloatBuffer(count: n * 2 * f)
        dAct = FloatBuffer(count: n * f)
        dGateUp = FloatBuffer(count: n * 2 * f)
        dNormed = FloatBuffer(count: n * d)
        dz = FloatBuffer(count: n * config.attentionWidth)
        dqkv = FloatBuffer(count: n * w)
        dMLPInput = config.parallelResidual ? FloatBuffer(count: n * d) : nil
        let gemma = config.architecture.normsBlockOutputs
        act = FloatBuffer(count: gemma ? n * f : 0)
        z = FloatBuffer(count: gemma ? n * config.attentionWidth : 0)
        blockOut = FloatBuffer(count: gemma ? n * d : 0)
        dBlockOut = FloatBuffer(count: gemma ? n * d : 0)
        outputScale = FloatBuffer(count: gemma ? n : 0)
        headInput = FloatBuffer(count: config.architecture.normsQueriesAndKeys ? n * w : 0)
    }

    /// g: dM/d resid_pre[l + 1] on entry, dM/d resid_pre[l] on return. residPre, residMid: [N, D]
    /// from the forward pass. Hands out z's and (when asked) the patterns' gradients on the way.
    func run(_ layer: LayerWeights, products: LayerProducts, index l: Int, residPre x: UnsafePointer<Float>,
             residMid xm: UnsafePointer<Float>, g: UnsafeMutablePointer<Float>,
             request: GradientRequest, receive: (GradientTensor) -> Void) {
        let n = layout.tokenCount, d = config.hiddenSize, f = config.intermediateSize
        let h = config.headCount, k = config.kvHeadCount, e = config.headDim
        let w = (h + 2 * k) * e, zWidth = h * e

        // MLP block, forward: normed = norm(xm), then the MLP's input projection; with a parallel
        // residual the MLP reads the layer's input x instead of resid_mid.
        let mlpInput = config.parallelResidual ? x : xm
        norm.run(mlpInput, gamma: layer.mlpNorm, beta: layer.mlpNormBias, rows: n, width: d, scale: scale.pointer,
                 mean: mean.pointer, into: normed.pointer)
        // pre = normed · W_in^T (+ b_in): [N, 2F] gate and up for a gated MLP, [N, F] for a GELU MLP
        let inWidth = config.architecture.mlp.isGated ? 2 * f : f
        products.gateUp.apply(normed.pointer, lda: d, gateUp.pointer, ldc: inWidth, m: n)
        if let bias = layer.gateUpBias { Kernels.addBias(bias.pointer, to: gateUp.pointer, count: n, width: inWidth) }
        // MLP block, backward: dact = g · W_down (Gemma 3: the output norm's gradient · W_down),
        // through the activation, dnormed = dpre · W_in
        var dMLPOut = UnsafePointer(g)
        if let outputNorm = layer.mlpOutputNorm {
            Kernels.geGLU(gateUp.pointer, rows: n, width: f, into: act.pointer)
            products.down.apply(act.pointer, lda: f, blockOut.pointer, ldc: d, m: n)
            dMLPOut = outputNormBackward(gamma: outputNorm, g: g)
        }
        BLAS.matmulSplittingColumns(dMLPOut, lda: d, layer.down.pointer, ldb: f, dAct.pointer, ldc: f, m: n, n: f, k: d)
        switch config.architecture.mlp {
        case .swiGLU:
            BackwardKernels.swiGLU(gateUp.pointer, dAct: dAct.pointer, rows: n, width: f, into: dGateUp.pointer)
        case .gelu:
            BackwardKernels.geluTanh(gateUp.pointer, dy: dAct.pointer, rows: n, width: f, into: dGateUp.pointer)
        case .geluErf:
            BackwardKernels.geluErf(gateUp.pointer, dy: dAct.pointer, rows: n, width: f, into: dGateUp.pointer)
        case .geGLU:
            BackwardKernels.geGLU(gateUp.pointer, dAct: dAct.pointer, rows: n, width: f, into: dGateUp.pointer)
        }
        BLAS.matmulSplittingColumns(dGateUp.pointer, lda: inWidth, layer.gateUp.pointer, ldb: d, dNormed.pointer, ldc: d,
                                    m: n, n: d, k: inWidth)
        if let dMLPInput {
            // Parallel: resid_post = x + attn(x) + mlp(x); the attention block's reverse below
            // reads g = dM/d resid_post, and the MLP's share of dM/dx joins afterwards.
            dMLPInput.pointer.update(repeating: 0, count: n * d)
            norm.backward(x, scale: scale.pointer, mean: mean.pointer, gamma: layer.mlpNorm, dy: dNormed.pointer,
                          rows: n, width: d, addingInto: dMLPInput.pointer)
        } else {
            norm.backward(xm, scale: scale.pointer, mean: mean.pointer, gamma: layer.mlpNorm, dy: dNormed.pointer,
                          rows: n, width: d, addingInto: g)
        }
        // g = dM/d resid_mid (sequential), dM/d resid_post (parallel)

        // Attention block, forward: qkv = norm(x) · W_qkv^T + b, RoPE on q and k
        norm.run(x, gamma: layer.attentionNorm, beta: layer.attentionNormBias, rows: n, width: d,
                 scale: scale.pointer, mean: mean.pointer, into: normed.pointer)
        products.qkv.apply(normed.pointer, lda: d, qkv.pointer, ldc: w, m: n)
        if let bias = layer.qkvBias { Kernels.addBias(bias.pointer, to: qkv.pointer, count: n, width: w) }
        if let queryNorm = layer.queryNorm, let keyNorm = layer.keyNorm {
            headInput.pointer.update(from: qkv.pointer, count: n * w)
            headNorm.apply(qkv.pointer, count: n, stride: w, heads: h, headDim: e, gamma: queryNorm)
            headNorm.apply(qkv.pointer + h * e, count: n, stride: w, heads: k, headDim: e, gamma: keyNorm)
        }
        rotate(qkv.pointer, layer: l, inverse: false)

        // Attention block, backward: dz = g · W_O (Gemma 3: the output norm's gradient · W_O);
        // attention; RoPE^T; the q/k norms' reverse (Gemma 3); dnormed = dqkv · W_qkv
        var dAttnOut = UnsafePointer(g)
        if let outputNorm = layer.attentionOutputNorm {
            let sources = layout.sequences.map { KeyValueSource(segments: [.ownRows(of: $0, in: qkv.pointer, config: config)]) }
            forwardAttention.run(qkv: qkv.pointer, layout: layout, sources: sources, window: config.attentionWindow(layer: l),
                                 z: z.pointer, patterns: nil, lastRows: nil)
            products.output.apply(z.pointer, lda: zWidth, blockOut.pointer, ldc: d, m: n)
            if let bias = layer.outputBias { Kernels.addBias(bias.pointer, to: blockOut.pointer, count: n, width: d) }
            dAttnOut = outputNormBackward(gamma: outputNorm, g: g)
        }
        BLAS.matmulSplittingColumns(dAttnOut, lda: d, layer.output.pointer, ldb: zWidth, dz.pointer, ldc: zWidth, m: n, n: zWidth, k: d)
        if request.points.contains(.z(l)) { hand(.z(l), [n, h, e], dz.pointer, receive) }
        let patternBuffers = request.points.contains(.attnPattern(l))
            ? layout.sequences.map { FloatBuffer(count: h * $0.tokenCount * $0.tokenCount) } : nil
        attention.run(qkv: qkv.pointer, dz: dz.pointer, layout: layout, window: config.attentionWindow(layer: l),
                      dqkv: dqkv.pointer, patternGradients: patternBuffers?.map(\.pointer))
        for (b, span) in layout.sequences.enumerated() {
            guard let patternBuffers else { break }
            hand(.attnPattern(l), [h, span.tokenCount, span.tokenCount], patternBuffers[b].pointer, receive, sequence: b)
        }
        rotate(dqkv.pointer, layer: l, inverse: true)
        if let queryNorm = layer.queryNorm, let keyNorm = layer.keyNorm {
            headNorm.backward(headInput.pointer, dy: dqkv.pointer, count: n, stride: w, heads: h, headDim: e, gamma: queryNorm)
            headNorm.backward(headInput.pointer + h * e, dy: dqkv.pointer + h * e, count: n, stride: w, heads: k,
                              headDim: e, gamma: keyNorm)
        }
        BLAS.matmulSplittingColumns(dqkv.pointer, lda: w, layer.qkv.pointer, ldb: d, dNormed.pointer, ldc: d, m: n, n: d, k: w)
        norm.backward(x, scale: scale.pointer, mean: mean.pointer, gamma: layer.attentionNorm, dy: dNormed.pointer,
                      rows: n, width: d, addingInto: g)
        if let dMLPInput { Kernels.add(dMLPInput.pointer, into: g, count: n * d) }
        if request.points.contains(.residPre(l)) { hand(.residPre(l), [n, d], g, receive) }
    }

    /// RoPE on the q and k columns of every sequence's rows: the forward rotation, or its
    /// transpose (a rotation by -angle), which carries dq and dk back through it. rows: [N, W]
    private func rotate(_ rows: UnsafeMutablePointer<Float>, layer l: Int, inverse: Bool) {
        guard config.architecture.positions == .rotary else { return }
        let h = config.headCount, k = config.kvHeadCount, e = config.headDim, w = (h + 2 * k) * e
        let tables = config.attentionWindow(layer: l) != nil ? localRotations ?? rotations : rotations
        for (span, rotation) in zip(layout.sequences, tables) {
            let start = rows + span.rowStart * w, sin = inverse ? rotation.inverseSin : rotation.sin
            rope.apply(start, stride: w, count: span.tokenCount, heads: h, cos: rotation.cos, sin: sin)
            rope.apply(start + h * e, stride: w, count: span.tokenCount, heads: k, cos: rotation.cos, sin: sin)
        }
    }

    /// Gemma 3: g reaches a block's output o = blockOut through the output norm, whose scale is
    /// recomputed from o and differentiated too: returns dM/do [N, D] (in dBlockOut).
    private func outputNormBackward(gamma: FloatBuffer, g: UnsafePointer<Float>) -> UnsafePointer<Float> {
        let n = layout.tokenCount, d = config.hiddenSize
        norm.statistics(blockOut.pointer, rows: n, width: d, scale: outputScale.pointer, mean: mean.pointer)
        dBlockOut.pointer.update(repeating: 0, count: n * d)
        norm.backward(blockOut.pointer, scale: outputScale.pointer, mean: mean.pointer, gamma: gamma, dy: g, rows: n,
                      width: d, addingInto: dBlockOut.pointer)
        return UnsafePointer(dBlockOut.pointer)
    }

    private func hand(_ point: HookPoint, _ shape: [Int], _ values: UnsafePointer<Float>,
                      _ receive: (GradientTensor) -> Void, sequence: Int? = nil) {
        receive(GradientTensor(point: point, shape: shape,
                               values: UnsafeBufferPointer(start: values, count: shape.reduce(1, *)),
                               layout: layout, sequence: sequence))
    }
}
