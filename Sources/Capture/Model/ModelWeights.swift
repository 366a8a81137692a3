import Shared

// Legend: D = d_model, H = query heads, K = KV heads, E = head_dim, F = d_ff, V = vocabulary.
// Matrices are row-major [out, in], as in Hugging Face checkpoints, so a projection is x · W^T.

/// One decoder layer's fp32 weights. q/k/v and gate/up are fused into one matrix each so
/// that each is a single GEMM; rows keep the Hugging Face (rotate_half RoPE) order. Norm biases
/// and MLP biases exist for LayerNorm models (GPT-2) only; the norms of the block outputs and of
/// the query and key heads for Gemma 3 only. Every RMSNorm gain is the factor applied, so
/// Gemma's stored (1 + w) convention is resolved by the loader.
public final class LayerWeights: @unchecked Sendable {
    public let attentionNorm: FloatBuffer   // [D]
    public let attentionNormBias: FloatBuffer?  // [D]
    public let qkv: FloatBuffer             // [(H + 2K) * E, D]: q rows, then k rows, then v rows
    public let qkvBias: FloatBuffer?        // [(H + 2K) * E]
    public let output: FloatBuffer          // W_O: [D, H * E]
    public let outputBias: FloatBuffer?     // [D]
    public let mlpNorm: FloatBuffer         // [D]
    public let mlpNormBias: FloatBuffer?    // [D]
    /// SwiGLU: [2F, D], gate rows then up rows; GELU MLP: [F, D], the up rows alone.
    public let gateUp: FloatBuffer
    public let gateUpBias: FloatBuffer?     // [F] (GELU MLP)
    public let down: FloatBuffer            // [D, F]
    public let downBias: FloatBuffer?       // [D] (GELU MLP)
    /// Gemma 3: RMSNorm gains of the attention output and of the MLP output, before each joins
    /// the residual stream, and of every query and key head before RoPE.
    public let attentionOutputNorm: FloatBuffer?  // [D]
    public let mlpOutputNorm: FloatBuffer?        // [D]
    public let queryNorm: FloatBuffer?            // [E]
    public let keyNorm: FloatBuffer?              // [E]

    public init(attentionNorm: FloatBuffer, attentionNormBias: FloatBuffer? = nil, qkv: FloatBuffer,
                qkvBias: FloatBuffer?, output: FloatBuffer, outputBias: FloatBuffer?, mlpNorm: FloatBuffer,
                mlpNormBias: FloatBuffer? = nil, gateUp: FloatBuffer, gateUpBias: FloatBuffer? = nil,
                down: FloatBuffer, downBias: FloatBuffer? = nil, attentionOutputNorm: FloatBuffer? = nil,
                mlpOutputNorm: FloatBuffer? = nil, queryNorm: FloatBuffer? = nil, keyNorm: FloatBuffer? = nil) {
        self.attentionNorm = attentionNorm
        self.attentionNormBias = attentionNormBias
        self.qkv = qkv
        self.qkvBias = qkvBias
        self.output = output
        self.outputBias = outputBias
        self.mlpNorm = mlpNorm
        self.mlpNormBias = mlpNormBias
        self.gateUp = gateUp
        self.gateUpBias = gateUpBias
        self.down = down
        self.downBias = downBias
        self.attentionOutputNorm = attentionOutputNorm
        self.mlpOutputNorm = mlpOutputNorm
        self.queryNorm = queryNorm
        self.keyNorm = keyNorm
    }
}

/// All fp32 weights of a model, in the engine's canonical form.
public final class ModelWeights: @unchecked Sendable {
    public let embedding: FloatBuffer        // [V, D]
    public let layers: [LayerWeights]
    public let finalNorm: FloatBuffer        // [D]
    public let finalNormBias: FloatBuffer?   // [D] (LayerNorm)
    /// Learned absolute positions (GPT-2's wpe): [context, D]
    public let positionEmbedding: FloatBuffer?
    /// W_U rows: [V, D]; the embedding buffer itself when the model ties them.
    public let unembedding: FloatBuffer
    /// Per-frequency divisors of the RoPE inverse frequencies ([E / 2]), as GGUF files of
    /// Llama 3.1-style models store them (`rope_freqs.weight`) instead of rope-scaling keys.
    public let ropeFrequencyFactors: [Float]?

    public init(embedding: FloatBuffer, layers: [LayerWeights], finalNorm: FloatBuffer,
                finalNormBias: FloatBuffer? = nil, positionEmbedding: FloatBuffer? = nil,
                unembedding: FloatBuffer, ropeFrequencyFactors: [Float]?) {
        self.embedding = embedding
        self.layers = layers
        self.finalNorm = finalNorm
        self.finalNormBias = finalNormBias
        self.positionEmbedding = positionEmbedding
        self.unembedding = unembedding
        self.ropeFrequencyFactors = ropeFrequencyFactors
    }

    /// Checks every buffer's size against `config`; `source` names the model file.
    public func validate(against config: ModelConfig, source: String) throws {
        let d = config.hiddenSize, e = config.headDim, f = config.intermediateSize
        let qkvRows = (config.headCount + 2 * config.kvHeadCount) * e
        func expect(_ buffer: FloatBuffer?, _ count: Int, _ what: String) throws {
            guard let buffer else { return }
            if buffer.count != count {
                throw InputError(file: source, "\(what) has \(buffer.count) values, expected \(count)")
            }
        }
        try expect(embedding, config.vocabularySize * d, "token embedding")
        try expect(unembedding, config.vocabularySize * d, "unembedding")
        try expect(finalNorm, d, "final norm")
        try expect(finalNormBias, d, "final norm bias")
        try expect(positionEmbedding, config.contextLength * d, "position embedding")
        let layerNorm = config.architecture.normalization == .layer
        let gelu = !config.architecture.mlp.isGated
        let outputNorms = config.architecture.normsBlockOutputs, headNorms = config.architecture.normsQueriesAndKeys
        if layerNorm != (finalNormBias != nil) {
            throw InputError(file: source, "final norm bias \(finalNormBias == nil ? "missing" : "present") for a model with \(config.architecture.normalization.rawValue) norms")
        }
        if (config.architecture.positions == .learned) != (positionEmbedding != nil) {
            throw InputError(file: source, "position embedding \(positionEmbedding == nil ? "missing" : "present") for a model with \(config.architecture.positions.rawValue) positions")
        }
        if layers.count != config.layerCount {
            throw InputError(file: source, "has \(layers.count) layers, config says \(config.layerCount)")
        }
        for (l, layer) in layers.enumerated() {
            try expect(layer.attentionNorm, d, "layer \(l) attention norm")
            try expect(layer.qkv, qkvRows * d, "layer \(l) q/k/v projection")
            try expect(layer.qkvBias, qkvRows, "layer \(l) q/k/v bias")
            try expect(layer.output, d * config.attentionWidth, "layer \(l) output projection")
            try expect(layer.outputBias, d, "layer \(l) output bias")
            try expect(layer.mlpNorm, d, "layer \(l) MLP norm")
            try expect(layer.attentionNormBias, d, "layer \(l) attention norm bias")
            try expect(layer.mlpNormBias, d, "layer \(l) MLP norm bias")
            try expect(layer.gateUp, (gelu ? 1 : 2) * f * d, "layer \(l) gate/up projection")
            try expect(layer.gateUpBias, f, "layer \(l) MLP input bias")
            try expect(layer.down, d * f, "layer \(l) down projection")
            try expect(layer.downBias, d, "layer \(l) down projection bias")
            try expect(layer.attentionOutputNorm, d, "layer \(l) attention output norm")
            try expect(layer.mlpOutputNorm, d, "layer \(l) MLP output norm")
            try expect(layer.queryNorm, e, "layer \(l) query norm")
            try expect(layer.keyNorm, e, "layer \(l) key norm")
            if outputNorms != (layer.attentionOutputNorm != nil && layer.mlpOutputNorm != nil) {
                throw InputError(file: source, "layer \(l): block output norms \(outputNorms ? "missing" : "present") for a \(config.architecture.rawValue) model")
            }
            if headNorms != (layer.queryNorm != nil && layer.keyNorm != nil) {
                throw InputError(file: source, "layer \(l): query/key norms \(headNorms ? "missing" : "present") for a \(config.architecture.rawValue) model")
            }
            if layerNorm != (layer.attentionNormBias != nil && layer.mlpNormBias != nil) {
                throw InputError(file: source, "layer \(l): norm biases do not match the model's \(config.architecture.normalization.rawValue) norms")
            }
            if gelu != (layer.gateUpBias != nil && layer.downBias != nil) {
                throw InputError(file: source, "layer \(l): MLP biases do not match the model's \(config.architecture.mlp.rawValue) MLP")
            }
            if config.attentionQKVBias != (layer.qkvBias != nil) {
                throw InputError(file: source, "layer \(l): q/k/v biases \(layer.qkvBias == nil ? "missing" : "present") but the config says \(config.attentionQKVBias ? "present" : "absent")")
            }
        }
        if let factors = ropeFrequencyFactors, factors.count != e / 2 {
            throw InputError(file: source, "rope_freqs has \(factors.count) values, expected head_dim/2 = \(e / 2)")
        }
    }
}
