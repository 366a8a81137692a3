import Shared

/// Every supported architecture is this one configuration of one engine (Engine/Transformer):
/// the differences between Llama-family and Qwen2 models are fields here, filled from a GGUF
/// file's metadata or a Hugging Face `config.json`.
public struct ModelConfig: Equatable, Sendable, Codable {
    public enum Architecture: String, Codable, Sendable, CaseIterable {
        /// Llama 2, Llama 3/3.1/3.2, Mistral, Yi, SmolLM2 (HF `LlamaForCausalLM`, `MistralForCausalLM`).
        case llama
        /// Qwen2 and Qwen2.5 (HF `Qwen2ForCausalLM`): biases on q, k and v.
        case qwen2
    }

    /// Llama 3.1-style frequency-dependent RoPE scaling (`rope_scaling.rope_type == "llama3"`).
    public struct Llama3RopeScaling: Equatable, Sendable, Codable {
        public var factor: Float
        public var lowFrequencyFactor: Float
        public var highFrequencyFactor: Float
        public var originalMaxPositionEmbeddings: Int

        public init(factor: Float, lowFrequencyFactor: Float, highFrequencyFactor: Float,
                    originalMaxPositionEmbeddings: Int) {
            self.factor = factor
            self.lowFrequencyFactor = lowFrequencyFactor
            self.highFrequencyFactor = highFrequencyFactor
            self.originalMaxPositionEmbeddings = originalMaxPositionEmbeddings
        }
    }

    public var architecture: Architecture
    public var vocabularySize: Int
    /// d_model
    public var hiddenSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var kvHeadCount: Int
    /// From the config (`head_dim`), never assumed to be hiddenSize / headCount.
    public var headDim: Int
    /// d_ff of the SwiGLU MLP.
    public var intermediateSize: Int
    public var rmsNormEpsilon: Float
    public var ropeTheta: Float
    public var ropeScaling: Llama3RopeScaling?
    public var contextLength: Int
    /// Biases on the q, k and v projections (Qwen2).
    public var attentionQKVBias: Bool
    /// Bias on the attention output projection (Llama configs with `attention_bias: true`).
    public var attentionOutputBias: Bool
    /// The unembedding reuses the token embedding matrix.
    public var tiedEmbeddings: Bool
    /// Sliding attention window: on the layers that use it, a query at position t sees only the
    /// keys at positions (t - slidingWindow, t]. nil: full causal attention everywhere.
    public var slidingWindow: Int?
    /// Which layers use the sliding window ([layerCount] flags); nil: every layer (Mistral).
    /// Gemma 3 mixes local (windowed) and global layers.
    public var slidingWindowLayers: [Bool]?

    public init(architecture: Architecture, vocabularySize: Int, hiddenSize: Int, layerCount: Int,
                headCount: Int, kvHeadCount: Int, headDim: Int, intermediateSize: Int,
                rmsNormEpsilon: Float, ropeTheta: Float, ropeScaling: Llama3RopeScaling?,
                contextLength: Int, attentionQKVBias: Bool, attentionOutputBias: Bool,
                tiedEmbeddings: Bool, slidingWindow: Int? = nil) {
        self.architecture = architecture
        self.vocabularySize = vocabularySize
        self.hiddenSize = hiddenSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.headDim = headDim
        self.intermediateSize = intermediateSize
        self.rmsNormEpsilon = rmsNormEpsilon
        self.ropeTheta = ropeTheta
        self.ropeScaling = ropeScaling
        self.contextLength = contextLength
        self.attentionQKVBias = attentionQKVBias
        self.attentionOutputBias = attentionOutputBias
        self.tiedEmbeddings = tiedEmbeddings
        self.slidingWindow = slidingWindow
    }

    /// Query heads per KV head; query head h reads KV head h / groupSize.
    public var groupSize: Int { headCount / kvHeadCount }

    /// Width of the concatenated z of all heads: the input of the output projection.
    public var attentionWidth: Int { headCount * headDim }

    public func kvHead(forQueryHead head: Int) -> Int { head / groupSize }

    /// The sliding window of layer l, nil where the layer attends to every earlier key.
    public func attentionWindow(layer l: Int) -> Int? {
        guard let slidingWindow else { return nil }
        return slidingWindowLayers.map { $0[l] ? slidingWindow : nil } ?? slidingWindow
    }

    /// Throws when the sizes cannot describe a working model (e.g. heads not divisible into
    /// KV groups); `source` names the file the config came from.
    public func validate(source: String) throws {
        func check(_ ok: Bool, _ problem: @autoclosure () -> String) throws {
            if !ok { throw InputError(file: source, problem()) }
        }
        try check(vocabularySize > 0 && hiddenSize > 0 && layerCount > 0 && headCount > 0
                  && kvHeadCount > 0 && headDim > 0 && intermediateSize > 0,
                  "model sizes must be positive (vocab \(vocabularySize), d_model \(hiddenSize), layers \(layerCount), heads \(headCount)/\(kvHeadCount), head_dim \(headDim), d_ff \(intermediateSize))")
        try check(headCount % kvHeadCount == 0,
                  "head count \(headCount) is not a multiple of the KV head count \(kvHeadCount)")
        try check(headDim % 2 == 0, "head_dim \(headDim) must be even for RoPE")
        try check(rmsNormEpsilon > 0 && rmsNormEpsilon.isFinite, "RMSNorm epsilon \(rmsNormEpsilon) must be positive")
        try check(ropeTheta > 0 && ropeTheta.isFinite, "RoPE theta \(ropeTheta) must be positive")
        try check(contextLength > 0, "context length \(contextLength) must be positive")
        if let slidingWindow { try check(slidingWindow > 0, "sliding window \(slidingWindow) must be positive") }
        if let slidingWindowLayers {
            try check(slidingWindowLayers.count == layerCount,
                      "sliding-window layer flags name \(slidingWindowLayers.count) layers; the model has \(layerCount)")
        }
    }
}
