import Shared

/// A GPT-NeoX / Pythia `config.json` (transformers' `GPTNeoXConfig`). Absent fields take
/// GPTNeoXConfig's defaults. RoPE settings are read as transformers resolves them: a
/// `rope_scaling` or `rope_parameters` object (5.x) first, then the 4.x top-level
/// `rotary_emb_base` and `rotary_pct`, then 10000 and 0.25. Options that change the computation
/// away from GPT-NeoX's are refused rather than ignored.
struct GPTNeoXConfigJSON: Decodable {
    let vocabSize: Int
    let hiddenSize: Int
    let layers: Int
    let heads: Int
    let intermediateSize: Int
    let activation: String
    let positions: Int
    let epsilon: Float
    let tiedEmbeddings: Bool
    let parallelResidual: Bool
    let attentionBias: Bool
    let ropeTheta: Float
    /// The fraction of each head that RoPE rotates.
    let rotaryFraction: Double
    let ropeType: String

    private enum Keys: String, CodingKey {
        case vocabSize = "vocab_size", hiddenSize = "hidden_size", layers = "num_hidden_layers"
        case heads = "num_attention_heads", intermediateSize = "intermediate_size", activation = "hidden_act"
        case positions = "max_position_embeddings", epsilon = "layer_norm_eps", tie = "tie_word_embeddings"
        case parallel = "use_parallel_residual", attentionBias = "attention_bias"
        case rotaryBase = "rotary_emb_base", rotaryPct = "rotary_pct"
        case ropeScaling = "rope_scaling", ropeParameters = "rope_parameters"
    }

    /// The keys of a `rope_parameters` / `rope_scaling` object this architecture reads.
    private struct RopeJSON: Decodable {
        let ropeType: String?
        let type: String?
        let ropeTheta: Float?
        let partialRotaryFactor: Double?
        /// No keys at all: Python treats `{}` as false.
        let isEmpty: Bool

        private enum Keys: String, CodingKey {
            case ropeType = "rope_type", type, ropeTheta = "rope_theta", partialRotaryFactor = "partial_rotary_factor"
        }

        private struct AnyKey: CodingKey {
            let stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            isEmpty = try decoder.container(keyedBy: AnyKey.self).allKeys.isEmpty
            let c = try decoder.container(keyedBy: Keys.self)
            ropeType = try c.decodeIfPresent(String.self, forKey: .ropeType)
            type = try c.decodeIfPresent(String.self, forKey: .type)
            ropeTheta = try c.decodeIfPresent(Float.self, forKey: .ropeTheta)
            partialRotaryFactor = try c.decodeIfPresent(Double.self, forKey: .partialRotaryFactor)
        }
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        vocabSize = try c.decodeIfPresent(Int.self, forKey: .vocabSize) ?? 50432
        hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? 6144
        layers = try c.decodeIfPresent(Int.self, forKey: .layers) ?? 44
        heads = try c.decodeIfPresent(Int.self, forKey: .heads) ?? 64
        intermediateSize = try c.decodeIfPresent(Int.self, forKey: .intermediateSize) ?? 24576
        activation = try c.decodeIfPresent(String.self, forKey: .activation) ?? "gelu"
        positions = try c.decodeIfPresent(Int.self, forKey: .positions) ?? 2048
        epsilon = try c.decodeIfPresent(Float.self, forKey: .epsilon) ?? 1e-5
        tiedEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tie) ?? false
        parallelResidual = try c.decodeIfPresent(Bool.self, forKey: .parallel) ?? true
        attentionBias = try c.decodeIfPresent(Bool.self, forKey: .attentionBias) ?? true
        // transformers: rope_parameters = rope_scaling or rope_parameters, then setdefault from
        // the 4.x keys; Python treats an empty object as absent.
        let scaling = try c.decodeIfPresent(RopeJSON.self, forKey: .ropeScaling)
        let parameters = try c.decodeIfPresent(RopeJSON.self, forKey: .ropeParameters)
        let rope = [scaling, parameters].compactMap { $0 }.first { !$0.isEmpty }
        ropeTheta = try rope?.ropeTheta ?? c.decodeIfPresent(Float.self, forKey: .rotaryBase) ?? 10000
        rotaryFraction = try rope?.partialRotaryFactor ?? c.decodeIfPresent(Double.self, forKey: .rotaryPct) ?? 0.25
        ropeType = rope?.ropeType ?? rope?.type ?? "default"
    }

    func modelConfig(reject: (String) -> InputError) throws -> ModelConfig {
        // transformers' "gelu" is torch's exact gelu (GELUActivation), not the tanh approximation.
        guard activation == "gelu" else {
            throw reject("unsupported hidden_act \(activation) for gpt_neox (gelu only)")
        }
        guard ropeType == "default" else {
            throw reject("unsupported rope_scaling type \(ropeType) for gpt_neox (default only)")
        }
        guard heads > 0, hiddenSize % heads == 0 else {
            throw reject("hidden_size \(hiddenSize) is not a multiple of num_attention_heads \(heads)")
        }
        guard rotaryFraction > 0 && rotaryFraction <= 1 else {
            throw reject("rotary_pct \(rotaryFraction) must be in (0, 1]")
        }
        let headDim = hiddenSize / heads
        // GPTNeoXAttention: rotary_ndims = int(head_size * partial_rotary_factor), truncated.
        let rotaryDim = Int(Double(headDim) * rotaryFraction)
        guard rotaryDim > 0, rotaryDim % 2 == 0 else {
            throw reject("rotary_pct \(rotaryFraction) of head size \(headDim) gives \(rotaryDim) rotary dimensions; RoPE needs a positive even number")
        }
        var config = ModelConfig(
            architecture: .gptNeoX, vocabularySize: vocabSize, hiddenSize: hiddenSize, layerCount: layers,
            headCount: heads, kvHeadCount: heads, headDim: headDim, intermediateSize: intermediateSize,
            normEpsilon: epsilon, ropeTheta: ropeTheta, ropeScaling: nil, contextLength: positions,
            attentionQKVBias: attentionBias, attentionOutputBias: attentionBias, tiedEmbeddings: tiedEmbeddings)
        config.rotaryDim = rotaryDim
        config.parallelResidual = parallelResidual
        return config
    }
}
