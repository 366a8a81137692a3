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

    init(config: ModelConfig, norm: Norm, rope: RotaryEmbedding, layout: BatchLayout) {
        self.config = config
        self.norm = norm
        self.rope = rope
        self.layout = layout
        attention = AttentionBackward(config: config)
        rotations = layout.sequences.map { span in
            let table = rope.table(start: 0, count: span.tokenCount)
            return (table.cos, table.sin, table.sin.map { -$0 })
        }
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
    }

    /// g: dM/d resid_pre[l + 1] on entry, dM/d resid_pre[l] on return. residPre, residMid: [N, D]
    /// from the forward pass. Hands out z's and (when asked) the patterns' gradients on the way.
    func run(_ layer: LayerWeights, index l: Int, residPre x: UnsafePointer<Float>,
             residMid xm: UnsafePointer<Float>, g: UnsafeMutablePointer<Float>,
             request: GradientRequest, receive: (GradientTensor) -> Void) {
        let n = layout.tokenCount, d = config.hiddenSize, f = config.intermediateSize
        let h = config.headCount, k = config.kvHeadCount, e = config.headDim
        let w = (h + 2 * k) * e, zWidth = h * e

        // MLP block, forward: normed = norm(xm), then the MLP's input projection
        norm.run(xm, gamma: layer.mlpNorm, beta: layer.mlpNormBias, rows: n, width: d, scale: scale.pointer,
                 mean: mean.pointer, into: normed.pointer)
        // MLP block, backward: dact = g · W_down, through the activation, dnormed = d(input) · W_in
        BLAS.matmulSplittingColumns(g, lda: d, layer.down.pointer, ldb: f, dAct.pointer, ldc: f, m: n, n: f, k: d)
        switch config.architecture.mlp {
        case .swiGLU:
            BLAS.matmulTransposedBSplittingColumns(normed.pointer, lda: d, layer.gateUp.pointer, ldb: d, gateUp.pointer, ldc: 2 * f,
                                                   m: n, n: 2 * f, k: d)
            BackwardKernels.swiGLU(gateUp.pointer, dAct: dAct.pointer, rows: n, width: f, into: dGateUp.pointer)
            BLAS.matmulSplittingColumns(dGateUp.pointer, lda: 2 * f, layer.gateUp.pointer, ldb: d, dNormed.pointer, ldc: d,
                                        m: n, n: d, k: 2 * f)
        case .gelu:
            // pre = normed · W_fc^T + b_fc: [N, F]
            BLAS.matmulTransposedBSplittingColumns(normed.pointer, lda: d, layer.gateUp.pointer, ldb: d, gateUp.pointer, ldc: f,
                                                   m: n, n: f, k: d)
            Kernels.addBias(layer.gateUpBias!.pointer, to: gateUp.pointer, count: n, width: f)
            BackwardKernels.geluTanh(gateUp.pointer, dy: dAct.pointer, rows: n, width: f, into: dGateUp.pointer)
            BLAS.matmulSplittingColumns(dGateUp.pointer, lda: f, layer.gateUp.pointer, ldb: d, dNormed.pointer, ldc: d,
                                        m: n, n: d, k: f)
        }
        norm.backward(xm, scale: scale.pointer, mean: mean.pointer, gamma: layer.mlpNorm, dy: dNormed.pointer,
                      rows: n, width: d, addingInto: g)
        // g = dM/d resid_mid

        // Attention block, forward: qkv = norm(x) · W_qkv^T + b, RoPE on q and k
        norm.run(x, gamma: layer.attentionNorm, beta: layer.attentionNormBias, rows: n, width: d,
                 scale: scale.pointer, mean: mean.pointer, into: normed.pointer)
        BLAS.matmulTransposedBSplittingColumns(normed.pointer, lda: d, layer.qkv.pointer, ldb: d, qkv.pointer, ldc: w,
                                               m: n, n: w, k: d)
        if let bias = layer.qkvBias { Kernels.addBias(bias.pointer, to: qkv.pointer, count: n, width: w) }
        rotate(qkv.pointer, inverse: false)

        // Attention block, backward: dz = g · W_O; attention; RoPE^T; dnormed = dqkv · W_qkv
        BLAS.matmulSplittingColumns(g, lda: d, layer.output.pointer, ldb: zWidth, dz.pointer, ldc: zWidth, m: n, n: zWidth, k: d)
        if request.points.contains(.z(l)) { hand(.z(l), [n, h, e], dz.pointer, receive) }
        let patternBuffers = request.points.contains(.attnPattern(l))
            ? layout.sequences.map { FloatBuffer(count: h * $0.tokenCount * $0.tokenCount) } : nil
        attention.run(qkv: qkv.pointer, dz: dz.pointer, layout: layout, window: config.attentionWindow(layer: l),
                      dqkv: dqkv.pointer, patternGradients: patternBuffers?.map(\.pointer))
        for (b, span) in layout.sequences.enumerated() {
            guard let patternBuffers else { break }
            hand(.attnPattern(l), [h, span.tokenCount, span.tokenCount], patternBuffers[b].pointer, receive, sequence: b)
        }
        rotate(dqkv.pointer, inverse: true)
        BLAS.matmulSplittingColumns(dqkv.pointer, lda: w, layer.qkv.pointer, ldb: d, dNormed.pointer, ldc: d, m: n, n: d, k: w)
        norm.backward(x, scale: scale.pointer, mean: mean.pointer, gamma: layer.attentionNorm, dy: dNormed.pointer,
                      rows: n, width: d, addingInto: g)
        if request.points.contains(.residPre(l)) { hand(.residPre(l), [n, d], g, receive) }
    }

    /// RoPE on the q and k columns of every sequence's rows: the forward rotation, or its
    /// transpose (a rotation by -angle), which carries dq and dk back through it. rows: [N, W]
    private func rotate(_ rows: UnsafeMutablePointer<Float>, inverse: Bool) {
        guard config.architecture.positions == .rotary else { return }
        let h = config.headCount, k = config.kvHeadCount, e = config.headDim, w = (h + 2 * k) * e
        for (span, rotation) in zip(layout.sequences, rotations) {
            let start = rows + span.rowStart * w, sin = inverse ? rotation.inverseSin : rotation.sin
            rope.apply(start, stride: w, count: span.tokenCount, heads: h, cos: rotation.cos, sin: sin)
            rope.apply(start + h * e, stride: w, count: span.tokenCount, heads: k, cos: rotation.cos, sin: sin)
        }
    }

    private func hand(_ point: HookPoint, _ shape: [Int], _ values: UnsafePointer<Float>,
                      _ receive: (GradientTensor) -> Void, sequence: Int? = nil) {
        receive(GradientTensor(point: point, shape: shape,
                               values: UnsafeBufferPointer(start: values, count: shape.reduce(1, *)),
                               layout: layout, sequence: sequence))
    }
}
