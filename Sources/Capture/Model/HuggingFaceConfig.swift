import Foundation
import Shared

/// A Hugging Face `config.json` of a supported architecture, read the way transformers 5.x reads
/// it: absent fields take the defaults of `LlamaConfig`, `MistralConfig` or `Qwen2Config` (GPT-2
/// and Gemma 3 have readers of their own: GPT2ConfigJSON, Gemma3ConfigJSON), and
/// RoPE settings are accepted both as 5.x writes them (`rope_parameters` holding `rope_type`,
/// `rope_theta`, ...) and as 4.x wrote them (top-level `rope_theta` plus `rope_scaling`).
/// The model sizes themselves are required: a config without them describes no real checkpoint.
public struct HuggingFaceConfig: Sendable, Equatable {
    public static let supportedModelTypes = ["llama", "mistral", "qwen2", "gpt2", "gpt_neox", "gemma3_text"]

    /// `model_type`: llama, mistral, qwen2, gpt2, gpt_neox or gemma3_text.
    public let modelType: String
    public let modelConfig: ModelConfig
    /// Mistral's sliding-window length: each position attends to at most this many positions,
    /// so attention differs from full causal attention only on longer sequences. nil for full
    /// attention (Llama, Qwen2, or Mistral with `sliding_window: null`).
    public let slidingWindow: Int?
    /// The weights' stored precision as the config states it (`dtype`, or 4.x's `torch_dtype`).
    public let dtype: String?

    public init(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw InputError(file: url.path, "cannot read: \(error.localizedDescription)")
        }
        try self.init(data: data, source: url.path)
    }

    /// Decodes config.json text; `source` names it in errors.
    public init(data: Data, source: String) throws {
        func reject(_ problem: String) -> InputError { InputError(file: source, problem) }
        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            do {
                return try JSONDecoder().decode(type, from: data)
            } catch {
                throw reject("not a valid config.json: \(describeJSONError(error))")
            }
        }

        // The architecture first, so that an unsupported model is named as such rather than
        // reported as missing some field.
        let modelType = try decode(ModelTypeJSON.self).modelType
        if modelType == "gemma3" {
            throw reject("unsupported architecture gemma3 (the multimodal Gemma3ForConditionalGeneration checkpoint): load a text-only gemma3_text checkpoint (Gemma3ForCausalLM) or a gemma3 GGUF file")
        }
        guard Self.supportedModelTypes.contains(modelType) else {
            let supported = Self.supportedModelTypes.joined(separator: ", ")
            throw reject("unsupported architecture \(modelType) (supported: \(supported))")
        }
        if ["gpt2", "gpt_neox", "gemma3_text"].contains(modelType) {
            let config = switch modelType {
            case "gpt2": try decode(GPT2ConfigJSON.self).modelConfig(reject: reject)
            case "gpt_neox": try decode(GPTNeoXConfigJSON.self).modelConfig(reject: reject)
            default: try decode(Gemma3ConfigJSON.self).modelConfig(reject: reject)
            }
            try config.validate(source: source)
            self.modelType = modelType
            self.modelConfig = config
            self.slidingWindow = config.slidingWindow
            self.dtype = try decode(DTypeJSON.self).dtype
            return
        }
        let json = try decode(HuggingFaceConfigJSON.self)
        let defaults = ArchitectureDefaults(modelType: modelType)

        guard json.hiddenAct == "silu" else {
            throw reject("unsupported hidden_act \(json.hiddenAct) (the MLP is SwiGLU with silu)")
        }
        if modelType == "llama", json.mlpBias {
            throw reject("unsupported mlp_bias: true (MLP projections without biases only)")
        }
        if modelType == "qwen2" {
            if json.useSlidingWindow {
                throw reject("unsupported sliding-window attention (use_sliding_window: true)")
            }
            if let other = json.layerTypes?.first(where: { $0 != "full_attention" }) {
                throw reject("unsupported layer type \(other) in layer_types (full_attention only)")
            }
        }

        let maxPositions = json.maxPositionEmbeddings ?? defaults.maxPositionEmbeddings
        let rope = try RopeSettings(json: json, maxPositionEmbeddings: maxPositions, reject: reject)
        let kvHeads = json.numKeyValueHeads
            ?? (json.hasKeyValueHeadsKey ? nil : defaults.keyValueHeadsWhenAbsent)
            ?? json.numAttentionHeads
        let headDim = json.headDim ?? json.hiddenSize / max(json.numAttentionHeads, 1)
        let (qkvBias, outputBias) = defaults.biases(attentionBias: json.attentionBias)

        let slidingWindow = modelType == "mistral"
            ? (json.hasSlidingWindowKey ? json.slidingWindow : defaults.slidingWindowWhenAbsent)
            : nil
        let config = ModelConfig(
            architecture: defaults.architecture, vocabularySize: json.vocabSize, hiddenSize: json.hiddenSize,
            layerCount: json.numHiddenLayers, headCount: json.numAttentionHeads, kvHeadCount: kvHeads,
            headDim: headDim, intermediateSize: json.intermediateSize,
            normEpsilon: json.rmsNormEps ?? 1e-6, ropeTheta: rope.theta, ropeScaling: rope.llama3Scaling,
            contextLength: maxPositions, attentionQKVBias: qkvBias, attentionOutputBias: outputBias,
            tiedEmbeddings: json.tieWordEmbeddings ?? false, slidingWindow: slidingWindow)
        try config.validate(source: source)

        self.modelType = modelType
        self.modelConfig = config
        self.slidingWindow = slidingWindow
        self.dtype = json.dtype
    }
}

extension ModelConfig {
    /// Decodes a Hugging Face config.json (model_type llama, mistral, qwen2, gpt2, gpt_neox).
    public init(huggingFaceConfigAt url: URL) throws {
        self = try HuggingFaceConfig(contentsOf: url).modelConfig
    }
}

/// What transformers 5.x's config classes and attention modules fix per model type.
private struct ArchitectureDefaults {
    let modelType: String

    var architecture: ModelConfig.Architecture { modelType == "qwen2" ? .qwen2 : .llama }

    /// `num_key_value_heads` when the key is absent (an explicit null means "as many as query
    /// heads" for all three): LlamaConfig defaults to None, MistralConfig to 8, Qwen2Config to 32.
    var keyValueHeadsWhenAbsent: Int? {
        switch modelType {
        case "mistral": 8
        case "qwen2": 32
        default: nil
        }
    }

    var maxPositionEmbeddings: Int {
        switch modelType {
        case "mistral": 4096 * 32
        case "qwen2": 32768
        default: 2048
        }
    }

    /// MistralConfig's default `sliding_window`.
    var slidingWindowWhenAbsent: Int? { modelType == "mistral" ? 4096 : nil }

    /// LlamaAttention puts `attention_bias` on all four projections; MistralAttention has no
    /// biases and ignores the key; Qwen2Attention always has q, k, v biases and no o bias.
    func biases(attentionBias: Bool) -> (qkv: Bool, output: Bool) {
        switch modelType {
        case "llama": (attentionBias, attentionBias)
        case "qwen2": (true, false)
        default: (false, false)
        }
    }
}

/// RoPE base and scaling, resolved with transformers' precedence: a non-empty `rope_scaling`
/// replaces `rope_parameters`; a `rope_theta` inside it beats the top-level one; 10000 otherwise.
private struct RopeSettings {
    let theta: Float
    let llama3Scaling: ModelConfig.Llama3RopeScaling?

    init(json: HuggingFaceConfigJSON, maxPositionEmbeddings: Int, reject: (String) -> InputError) throws {
        let scaling = json.ropeScaling.flatMap { $0.isEmpty ? nil : $0 }
        let parameters = (scaling ?? json.ropeParameters)?.resolved ?? RopeParametersJSON.Fields()
        theta = parameters.ropeTheta ?? json.ropeTheta ?? 10000
        let type = parameters.ropeType ?? parameters.type ?? "default"
        switch type {
        case "default":
            llama3Scaling = nil
        case "llama3":
            guard let factor = parameters.factor, let low = parameters.lowFreqFactor,
                  let high = parameters.highFreqFactor else {
                throw reject("llama3 rope scaling needs factor, low_freq_factor and high_freq_factor")
            }
            if let partial = parameters.partialRotaryFactor, partial != 1 {
                throw reject("unsupported partial_rotary_factor \(partial) (RoPE on the whole head only)")
            }
            llama3Scaling = ModelConfig.Llama3RopeScaling(
                factor: factor, lowFrequencyFactor: low, highFrequencyFactor: high,
                originalMaxPositionEmbeddings: parameters.originalMaxPositionEmbeddings ?? maxPositionEmbeddings)
        default:
            throw reject("unsupported rope_scaling type \(type) (supported: default, llama3)")
        }
    }
}

private struct ModelTypeJSON: Decodable {
    let modelType: String

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type"
    }
}

/// The fields of config.json this tool uses, under their Hugging Face names. Optional fields
/// are nil when absent or null; where the two differ, `has...Key` records presence.
private struct HuggingFaceConfigJSON: Decodable {
    let vocabSize: Int
    let hiddenSize: Int
    let numHiddenLayers: Int
    let numAttentionHeads: Int
    let numKeyValueHeads: Int?
    let hasKeyValueHeadsKey: Bool
    let headDim: Int?
    let intermediateSize: Int
    let rmsNormEps: Float?
    let hiddenAct: String
    let ropeTheta: Float?
    let ropeScaling: RopeParametersJSON?
    let ropeParameters: RopeParametersJSON?
    let maxPositionEmbeddings: Int?
    let attentionBias: Bool
    let mlpBias: Bool
    let tieWordEmbeddings: Bool?
    let useSlidingWindow: Bool
    let slidingWindow: Int?
    let hasSlidingWindowKey: Bool
    let layerTypes: [String]?
    let dtype: String?

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size"
        case hiddenSize = "hidden_size"
        case numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads"
        case numKeyValueHeads = "num_key_value_heads"
        case headDim = "head_dim"
        case intermediateSize = "intermediate_size"
        case rmsNormEps = "rms_norm_eps"
        case hiddenAct = "hidden_act"
        case ropeTheta = "rope_theta"
        case ropeScaling = "rope_scaling"
        case ropeParameters = "rope_parameters"
        case maxPositionEmbeddings = "max_position_embeddings"
        case attentionBias = "attention_bias"
        case mlpBias = "mlp_bias"
        case tieWordEmbeddings = "tie_word_embeddings"
        case useSlidingWindow = "use_sliding_window"
        case slidingWindow = "sliding_window"
        case layerTypes = "layer_types"
        case dtype
        case torchDtype = "torch_dtype"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        numHiddenLayers = try c.decode(Int.self, forKey: .numHiddenLayers)
        numAttentionHeads = try c.decode(Int.self, forKey: .numAttentionHeads)
        numKeyValueHeads = try c.decodeIfPresent(Int.self, forKey: .numKeyValueHeads)
        hasKeyValueHeadsKey = c.contains(.numKeyValueHeads)
        headDim = try c.decodeIfPresent(Int.self, forKey: .headDim)
        intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
        rmsNormEps = try c.decodeIfPresent(Float.self, forKey: .rmsNormEps)
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? "silu"
        ropeTheta = try c.decodeIfPresent(Float.self, forKey: .ropeTheta)
        ropeScaling = try c.decodeIfPresent(RopeParametersJSON.self, forKey: .ropeScaling)
        ropeParameters = try c.decodeIfPresent(RopeParametersJSON.self, forKey: .ropeParameters)
        maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings)
        attentionBias = try c.decodeIfPresent(Bool.self, forKey: .attentionBias) ?? false
        mlpBias = try c.decodeIfPresent(Bool.self, forKey: .mlpBias) ?? false
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings)
        useSlidingWindow = try c.decodeIfPresent(Bool.self, forKey: .useSlidingWindow) ?? false
        slidingWindow = try c.decodeIfPresent(Int.self, forKey: .slidingWindow)
        hasSlidingWindowKey = c.contains(.slidingWindow)
        layerTypes = try c.decodeIfPresent([String].self, forKey: .layerTypes)
        dtype = try c.decodeIfPresent(String.self, forKey: .dtype)
            ?? c.decodeIfPresent(String.self, forKey: .torchDtype)
    }
}

/// A `rope_parameters` or `rope_scaling` object: flat, or (as transformers allows for models
/// with `layer_types`) nested under the layer type, of which only `full_attention` applies here.
private struct RopeParametersJSON: Decodable {
    struct Fields: Decodable {
        var ropeType: String?
        /// The 4.x spelling of `rope_type`.
        var type: String?
        var ropeTheta: Float?
        var factor: Float?
        var lowFreqFactor: Float?
        var highFreqFactor: Float?
        var originalMaxPositionEmbeddings: Int?
        var partialRotaryFactor: Float?

        enum CodingKeys: String, CodingKey {
            case ropeType = "rope_type"
            case type
            case ropeTheta = "rope_theta"
            case factor
            case lowFreqFactor = "low_freq_factor"
            case highFreqFactor = "high_freq_factor"
            case originalMaxPositionEmbeddings = "original_max_position_embeddings"
            case partialRotaryFactor = "partial_rotary_factor"
        }
    }

    let flat: Fields
    let fullAttention: Fields?
    /// No keys at all: Python treats `{}` as false, so an empty `rope_scaling` is ignored.
    let isEmpty: Bool

    private enum NestingKeys: String, CodingKey {
        case fullAttention = "full_attention"
    }

    private struct AnyKey: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    var resolved: Fields { fullAttention ?? flat }

    init(from decoder: any Decoder) throws {
        flat = try Fields(from: decoder)
        fullAttention = try decoder.container(keyedBy: NestingKeys.self)
            .decodeIfPresent(Fields.self, forKey: .fullAttention)
        isEmpty = try decoder.container(keyedBy: AnyKey.self).allKeys.isEmpty
    }
}
