import Foundation
import Shared

/// Every supported architecture is this one configuration of one engine (Engine/Transformer):
/// the differences between Llama-family, Qwen2, GPT-2, GPT-NeoX and Gemma 3 models are fields here, filled from a
/// GGUF file's metadata or a Hugging Face `config.json`, and what the architecture itself fixes
/// (norm, positions, MLP) is derived from `architecture`.
public struct ModelConfig: Equatable, Sendable, Codable {
    public enum Architecture: String, Codable, Sendable, CaseIterable {
        /// Llama 2, Llama 3/3.1/3.2, Mistral, Yi, SmolLM2 (HF `LlamaForCausalLM`, `MistralForCausalLM`).
        case llama
        /// Qwen2 and Qwen2.5 (HF `Qwen2ForCausalLM`): biases on q, k and v.
        case qwen2
        /// GPT-2 (HF `GPT2LMHeadModel`): learned absolute positions, LayerNorm with bias, GELU
        /// MLP, biases on every projection.
        case gpt2
        /// GPT-NeoX and Pythia (HF `GPTNeoXForCausalLM`): LayerNorm with bias, RoPE on a fraction
        /// of each head, the exact (erf) GELU MLP with biases, usually a parallel residual.
        case gptNeoX = "gpt_neox"
        /// Gemma 3 text models (HF `Gemma3ForCausalLM`, GGUF `gemma3`): embeddings scaled by
        /// sqrt(d_model), RMSNorm before and after attention and the MLP, q/k RMSNorms, GeGLU,
        /// local (sliding-window) and global layers with their own RoPE bases (docs/methods.md §24).
        case gemma3

        /// The norm before attention, before the MLP and before the unembedding.
        public var normalization: Normalization {
            switch self {
            case .llama, .qwen2, .gemma3: .rms
            case .gpt2, .gptNeoX: .layer
            }
        }
        /// How positions enter the model.
        public var positions: PositionEncoding { self == .gpt2 ? .learned : .rotary }
        /// The MLP: SwiGLU without biases, a GELU MLP with biases (tanh GELU for GPT-2, the
        /// exact erf GELU for GPT-NeoX), or Gemma's GeGLU.
        public var mlp: MLPKind {
            switch self {
            case .llama, .qwen2: .swiGLU
            case .gpt2: .gelu
            case .gptNeoX: .geluErf
            case .gemma3: .geGLU
            }
        }
        /// A norm on each block's output before it joins the residual stream (Gemma 3's
        /// post_attention_layernorm and post_feedforward_layernorm).
        public var normsBlockOutputs: Bool { self == .gemma3 }
        /// RMSNorms over head_dim on every query and key head, before RoPE (Gemma 3's q_norm, k_norm).
        public var normsQueriesAndKeys: Bool { self == .gemma3 }
    }

    /// The kind of every norm of the model (docs/methods.md §23).
    public enum Normalization: String, Codable, Sendable {
        /// gamma * x / sqrt(mean(x^2) + eps)
        case rms
        /// gamma * (x - mean(x)) / sqrt(var(x) + eps) + beta (biased variance, as torch's LayerNorm)
        case layer
    }

    public enum PositionEncoding: String, Codable, Sendable {
        /// RoPE on q and k (RotaryEmbedding).
        case rotary
        /// A learned [context, D] table added to the token embedding (GPT-2's wpe).
        case learned
    }

    public enum MLPKind: String, Codable, Sendable {
        /// down(silu(gate(x)) * up(x)), no biases
        case swiGLU
        /// down(gelu_tanh(up(x) + b_up)) + b_down: GPT-2's c_fc, gelu_new, c_proj
        case gelu
        /// down(gelu_tanh(gate(x)) * up(x)), no biases: Gemma's gelu_pytorch_tanh MLP
        case geGLU
        /// down(gelu(up(x) + b_up)) + b_down with the exact gelu(x) = x/2 (1 + erf(x/sqrt 2)):
        /// GPT-NeoX's dense_h_to_4h, gelu, dense_4h_to_h (docs/methods.md §25)
        case geluErf

        /// SwiGLU's and GeGLU's gate and up projections are one [2F, D] matrix; a GELU MLP has the up
        /// projection alone ([F, D]) and biases on both projections.
        public var isGated: Bool { self == .swiGLU || self == .geGLU }
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
    /// d_ff of the MLP.
    public var intermediateSize: Int
    /// Epsilon of every norm (`rms_norm_eps`, GPT-2's `layer_norm_epsilon`).
    public var normEpsilon: Float
    public var ropeTheta: Float
    public var ropeScaling: Llama3RopeScaling?
    public var contextLength: Int
    /// Biases on the q, k and v projections (Qwen2).
    public var attentionQKVBias: Bool
    /// Bias on the attention output projection (Llama configs with `attention_bias: true`, GPT-2).
    public var attentionOutputBias: Bool
    /// The unembedding reuses the token embedding matrix.
    public var tiedEmbeddings: Bool
    /// Sliding attention window: on the layers that use it, a query at position t sees only the
    /// keys at positions (t - slidingWindow, t]. nil: full causal attention everywhere.
    public var slidingWindow: Int?
    /// Which layers use the sliding window ([layerCount] flags); nil: every layer (Mistral).
    /// Gemma 3 mixes local (windowed) and global layers.
    public var slidingWindowLayers: [Bool]?
    /// RoPE base of the sliding-window layers (Gemma 3's `rope_local_base_freq`); nil: ropeTheta.
    public var localRopeTheta: Float?
    /// Attention scores are q · k * queryPreAttentionScalar^-0.5 (Gemma's `query_pre_attn_scalar`);
    /// nil: head_dim, the usual 1/sqrt(head_dim).
    public var queryPreAttentionScalar: Float?
    /// RoPE rotates only the first `rotaryDim` dimensions of each head (GPT-NeoX's
    /// `rotary_pct`); the rest pass through. nil: the whole head.
    public var rotaryDim: Int?
    /// Attention and MLP both read the layer's input (GPT-NeoX's `use_parallel_residual`):
    /// resid_post = resid_pre + attn_out + mlp_out, the MLP's norm applied to resid_pre.
    public var parallelResidual = false

    /// ModelConfig's JSON keys (fixtures record configs this way); normEpsilon keeps its first name.
    /// slidingWindowLayers and parallelResidual are not recorded (they decode as nil and false).
    enum CodingKeys: String, CodingKey {
        case architecture, vocabularySize, hiddenSize, layerCount, headCount, kvHeadCount, headDim
        case intermediateSize, ropeTheta, ropeScaling, contextLength, attentionQKVBias, attentionOutputBias
        case tiedEmbeddings, slidingWindow, slidingWindowLayers, localRopeTheta, queryPreAttentionScalar, rotaryDim
        case normEpsilon = "rmsNormEpsilon"
    }

    public init(architecture: Architecture, vocabularySize: Int, hiddenSize: Int, layerCount: Int,
                headCount: Int, kvHeadCount: Int, headDim: Int, intermediateSize: Int,
                normEpsilon: Float, ropeTheta: Float, ropeScaling: Llama3RopeScaling?,
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
        self.normEpsilon = normEpsilon
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

    /// The head dimensions RoPE rotates, pairing i with i + rotaryDimensions / 2: [0, rotaryDimensions).
    public var rotaryDimensions: Int { rotaryDim ?? headDim }

    /// Width of the concatenated z of all heads: the input of the output projection.
    public var attentionWidth: Int { headCount * headDim }

    public func kvHead(forQueryHead head: Int) -> Int { head / groupSize }

    /// The factor of q · k in the attention scores.
    public var attentionScale: Float {
        guard let queryPreAttentionScalar else { return 1 / Float(headDim).squareRoot() }
        // transformers: query_pre_attn_scalar ** -0.5 in double, applied to fp32 scores.
        return Float(pow(Double(queryPreAttentionScalar), -0.5))
    }

    /// Gemma scales the token embeddings by sqrt(d_model), the double rounded to fp32 as
    /// transformers' embed_scale buffer holds it; nil: no scaling.
    public var embeddingScale: Float? {
        architecture == .gemma3 ? Float(Double(hiddenSize).squareRoot()) : nil
    }

    /// The RoPE base of layer l: the local base on sliding-window layers where the model has one.
    public func ropeTheta(layer l: Int) -> Float {
        attentionWindow(layer: l) != nil ? localRopeTheta ?? ropeTheta : ropeTheta
    }

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
        if architecture.positions == .rotary {
            try check(headDim % 2 == 0, "head_dim \(headDim) must be even for RoPE")
            try check(rotaryDimensions > 0 && rotaryDimensions <= headDim && rotaryDimensions % 2 == 0,
                      "RoPE on \(rotaryDimensions) of \(headDim) head dimensions: must be even and in 2...\(headDim)")
        }
        try check(normEpsilon > 0 && normEpsilon.isFinite, "norm epsilon \(normEpsilon) must be positive")
        try check(ropeTheta > 0 && ropeTheta.isFinite, "RoPE theta \(ropeTheta) must be positive")
        if let localRopeTheta {
            try check(localRopeTheta > 0 && localRopeTheta.isFinite, "local RoPE theta \(localRopeTheta) must be positive")
        }
        if let queryPreAttentionScalar {
            try check(queryPreAttentionScalar > 0 && queryPreAttentionScalar.isFinite,
                      "query_pre_attn_scalar \(queryPreAttentionScalar) must be positive")
        }
        try check(contextLength > 0, "context length \(contextLength) must be positive")
        if let slidingWindow { try check(slidingWindow > 0, "sliding window \(slidingWindow) must be positive") }
        if let slidingWindowLayers {
            try check(slidingWindowLayers.count == layerCount,
                      "sliding-window layer flags name \(slidingWindowLayers.count) layers; the model has \(layerCount)")
        }
    }
}
