import Shared

// Legend: R = prompts in a batch, C = captured positions, L = layers, H = heads, E = head_dim,
// D = d_model, Y = labels of the set.

/// The direct projections of a set's label logits (format 1.1's head_label_logits and
/// resid_label_logits): a component c's contribution to label y through the frozen final-norm
/// scale s is s * (gamma ⊙ c) · W_U[y] for RMSNorm and s * (gamma ⊙ (c - mean(c))) · W_U[y]
/// for LayerNorm, which is s * c · u_y with u_y = gamma ⊙ W_U[y] centred (the centring is
/// linear; docs/methods.md §23). With a norm on the attention output (Gemma 3), a head writes
/// s_l g_l ⊙ (z_h W_O) (docs/methods.md §26): g_l is folded into the head directions and s_l
/// scales each row's layer. A residual stream's projection adds LayerNorm's beta · W_U[y],
/// so that resid_final's is the label logit itself. The label side is fixed per set, so it is folded into
/// the weights once: per batch each head then costs one [R·C, E] x [E, Y] product, and the
/// residual streams one [R·C·(L+1), D] x [D, Y] product.
struct LabelProjection {
    let labelCount: Int
    private let layerCount: Int, headCount: Int, headDim: Int, modelWidth: Int
    /// gamma ⊙ W_U[label], centred for LayerNorm: [Y, D]
    private let labelDirections: [Float]
    /// beta · W_U[label] (LayerNorm), 0 for RMSNorm: [Y]
    private let normBiasLogits: [Float]
    /// Per layer, labelDirections · diag(g_l) · o_proj.weight: [L, Y, H·E]; columns h·E..<(h+1)·E
    /// of layer l hold (W_O[l, h] · diag(g_l ⊙ gamma) · W_label^T)^T, g_l = 1 without an attention output norm.
    private let headDirections: [Float]

    init(weights: ModelWeights, config: ModelConfig, labelIDs: [Int32]) {
        let y = labelIDs.count, d = config.hiddenSize, width = config.attentionWidth
        labelCount = y
        layerCount = config.layerCount
        headCount = config.headCount
        headDim = config.headDim
        modelWidth = d
        var directions = [Float](repeating: 0, count: y * d)
        for (row, id) in labelIDs.enumerated() {
            for k in 0..<d { directions[row * d + k] = weights.finalNorm[k] * weights.unembedding[Int(id) * d + k] }
            if config.architecture.normalization == .layer {
                let mean = directions[(row * d)..<((row + 1) * d)].reduce(0, +) / Float(d)
                for k in 0..<d { directions[row * d + k] -= mean }
            }
        }
        labelDirections = directions
        normBiasLogits = labelIDs.map { id in
            guard let beta = weights.finalNormBias else { return 0 }
            return (0..<d).reduce(Float(0)) { $0 + beta[$1] * weights.unembedding[Int(id) * d + $1] }
        }
        var heads = [Float](repeating: 0, count: config.layerCount * y * width)
        if y > 0 {
            directions.withUnsafeBufferPointer { a in
                heads.withUnsafeMutableBufferPointer { c in
                    let gained = FloatBuffer(count: y * d)
                    for (l, layer) in weights.layers.enumerated() {
                        if let gain = layer.attentionOutputNorm {
                            for i in 0..<(y * d) { gained[i] = a[i] * gain[i % d] }
                        }
                        // o_proj.weight: [D, H·E], so (gamma ⊙ W_label) · o_proj.weight is [Y, H·E].
                        BLAS.matmul(layer.attentionOutputNorm == nil ? a.baseAddress! : UnsafePointer(gained.pointer), lda: d,
                                    layer.output.pointer, ldb: width,
                                    c.baseAddress! + l * y * width, ldc: width, m: y, n: width, k: d)
                    }
                }
            }
        }
        headDirections = heads
    }

    /// head_label_logits of a batch: [R, C, L, H, Y] from z [R, C, L, H, E], the final-norm
    /// scales [R, C] and, for models with an attention output norm, its scales [R, C, L] (else empty).
    func headLogits(z: [Float], scales: [Float], outputScales: [Float] = []) -> [Float] {
        let rows = scales.count, y = labelCount, e = headDim, width = headCount * headDim
        let perRow = layerCount * headCount
        var result = [Float](repeating: 0, count: rows * perRow * y)
        guard rows > 0, y > 0 else { return result }
        z.withUnsafeBufferPointer { a in
            headDirections.withUnsafeBufferPointer { b in
                result.withUnsafeMutableBufferPointer { c in
                    for l in 0..<layerCount {
                        for h in 0..<headCount {
                            let head = l * headCount + h
                            BLAS.matmulTransposedB(a.baseAddress! + head * e, lda: perRow * e,
                                                   b.baseAddress! + l * y * width + h * e, ldb: width,
                                                   c.baseAddress! + head * y, ldc: perRow * y,
                                                   m: rows, n: y, k: e)
                        }
                    }
                }
            }
        }
        scaleRows(&result, by: scales, width: perRow * y)
        if !outputScales.isEmpty {
            scaleRows(&result, by: outputScales, width: headCount * y)
        }
        return result
    }

    /// resid_label_logits of a batch: [R, C, L + 1, Y] from resid [R, C, L + 1, D] and the scales [R, C].
    func residLogits(resid: [Float], scales: [Float]) -> [Float] {
        let rows = scales.count, y = labelCount, streams = layerCount + 1
        var result = [Float](repeating: 0, count: rows * streams * y)
        guard rows > 0, y > 0 else { return result }
        resid.withUnsafeBufferPointer { a in
            labelDirections.withUnsafeBufferPointer { b in
                result.withUnsafeMutableBufferPointer { c in
                    BLAS.matmulTransposedB(a.baseAddress!, lda: modelWidth, b.baseAddress!, ldb: modelWidth,
                                           c.baseAddress!, ldc: y, m: rows * streams, n: y, k: modelWidth)
                }
            }
        }
        scaleRows(&result, by: scales, width: streams * y)
        for block in 0..<(rows * streams) {
            for label in 0..<y { result[block * y + label] += normBiasLogits[label] }
        }
        return result
    }

    /// Multiplies each consecutive block of `width` values by its scale.
    private func scaleRows(_ values: inout [Float], by scales: [Float], width: Int) {
        for (row, scale) in scales.enumerated() {
            for i in row * width..<(row + 1) * width { values[i] *= scale }
        }
    }
}
