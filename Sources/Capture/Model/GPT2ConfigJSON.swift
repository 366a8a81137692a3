import Shared

/// A GPT-2 `config.json` (transformers' `GPT2Config`), under its own names (`n_embd`, `n_layer`,
/// ...; the standard `hidden_size`-style names are accepted too, as GPT2Config's attribute_map
/// allows). Absent fields take GPT2Config's defaults; options that change the computation away
/// from GPT-2's are refused rather than ignored.
struct GPT2ConfigJSON: Decodable {
    let vocabSize: Int
    let positions: Int
    let width: Int
    let layers: Int
    let heads: Int
    /// d_ff; GPT2Config's None means 4 * n_embd.
    let inner: Int?
    let activation: String
    let epsilon: Float
    let scalesAttentionWeights: Bool
    let scalesByInverseLayerIndex: Bool
    let reordersAndUpcastsAttention: Bool
    let tiedEmbeddings: Bool

    private enum Keys: String, CodingKey {
        case vocabSize = "vocab_size", nPositions = "n_positions", maxPositions = "max_position_embeddings"
        case nEmbd = "n_embd", hiddenSize = "hidden_size", nLayer = "n_layer", numHiddenLayers = "num_hidden_layers"
        case nHead = "n_head", numAttentionHeads = "num_attention_heads", nInner = "n_inner"
        case activation = "activation_function", epsilon = "layer_norm_epsilon"
        case scaleAttnWeights = "scale_attn_weights", inverseLayer = "scale_attn_by_inverse_layer_idx"
        case reorder = "reorder_and_upcast_attn", tie = "tie_word_embeddings"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        func either(_ a: Keys, _ b: Keys, default value: Int) throws -> Int {
            try c.decodeIfPresent(Int.self, forKey: a) ?? c.decodeIfPresent(Int.self, forKey: b) ?? value
        }
        vocabSize = try c.decodeIfPresent(Int.self, forKey: .vocabSize) ?? 50257
        positions = try either(.nPositions, .maxPositions, default: 1024)
        width = try either(.nEmbd, .hiddenSize, default: 768)
        layers = try either(.nLayer, .numHiddenLayers, default: 12)
        heads = try either(.nHead, .numAttentionHeads, default: 12)
        inner = try c.decodeIfPresent(Int.self, forKey: .nInner)
        activation = try c.decodeIfPresent(String.self, forKey: .activation) ?? "gelu_new"
        epsilon = try c.decodeIfPresent(Float.self, forKey: .epsilon) ?? 1e-5
        scalesAttentionWeights = try c.decodeIfPresent(Bool.self, forKey: .scaleAttnWeights) ?? true
        scalesByInverseLayerIndex = try c.decodeIfPresent(Bool.self, forKey: .inverseLayer) ?? false
        reordersAndUpcastsAttention = try c.decodeIfPresent(Bool.self, forKey: .reorder) ?? false
        tiedEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tie) ?? true
    }

    func modelConfig(reject: (String) -> InputError) throws -> ModelConfig {
        // gelu_new and gelu_pytorch_tanh are the same tanh approximation.
        guard ["gelu_new", "gelu_pytorch_tanh"].contains(activation) else {
            throw reject("unsupported activation_function \(activation) for gpt2 (gelu_new only)")
        }
        guard scalesAttentionWeights, !scalesByInverseLayerIndex else {
            throw reject("unsupported attention scaling (scale_attn_weights must be true, scale_attn_by_inverse_layer_idx false)")
        }
        guard width % max(heads, 1) == 0 else {
            throw reject("n_embd \(width) is not a multiple of n_head \(heads)")
        }
        // reorder_and_upcast_attn only changes the precision of half-precision runs; in fp32 the
        // scores are the same, so it is accepted.
        return ModelConfig(
            architecture: .gpt2, vocabularySize: vocabSize, hiddenSize: width, layerCount: layers,
            headCount: heads, kvHeadCount: heads, headDim: width / max(heads, 1),
            intermediateSize: inner ?? 4 * width, normEpsilon: epsilon,
            // No RoPE: the theta is never read (positions are learned).
            ropeTheta: 10000, ropeScaling: nil,
            contextLength: positions, attentionQKVBias: true, attentionOutputBias: true,
            tiedEmbeddings: tiedEmbeddings)
    }
}

/// The weights' stored precision as config.json states it (`dtype`, or 4.x's `torch_dtype`).
struct DTypeJSON: Decodable {
    let dtype: String?

    private enum Keys: String, CodingKey {
        case dtype, torchDtype = "torch_dtype"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        dtype = try c.decodeIfPresent(String.self, forKey: .dtype) ?? c.decodeIfPresent(String.self, forKey: .torchDtype)
    }
}
