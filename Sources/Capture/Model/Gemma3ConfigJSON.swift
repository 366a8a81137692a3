import Foundation
import Shared

/// A Gemma 3 text `config.json` (transformers' `Gemma3TextConfig`, model_type `gemma3_text`).
/// The sizes are required, head_dim included (Gemma's head size is not hidden_size / heads);
/// the rest takes Gemma3TextConfig's defaults. RoPE bases are resolved as transformers 5.x does:
/// `rope_parameters` per layer type, else the 4.x keys `rope_theta` (global layers) and
/// `rope_local_base_freq` (sliding-window layers), else 1e6 and 1e4. Options that change the
/// computation away from what the engine does (softcapping, bidirectional attention, scaled
/// RoPE) are refused rather than ignored.
struct Gemma3ConfigJSON: Decodable {
    let vocabSize: Int
    let hiddenSize: Int
    let intermediateSize: Int
    let layers: Int
    let heads: Int
    let kvHeads: Int
    let headDim: Int?
    let activation: String
    let maxPositions: Int
    let epsilon: Float
    let tiedEmbeddings: Bool
    let attentionBias: Bool
    let queryPreAttentionScalar: Float
    let slidingWindow: Int
    let layerTypes: [String]?
    let slidingWindowPattern: Int
    let finalLogitSoftcapping: Float?
    let attentionLogitSoftcapping: Float?
    let bidirectional: Bool
    let globalRope: RopeType
    let localRope: RopeType

    /// One layer type's `rope_parameters` entry (or the 4.x top-level `rope_scaling`).
    struct RopeType: Decodable {
        var ropeType: String?
        var type: String?
        var ropeTheta: Float?

        enum CodingKeys: String, CodingKey {
            case ropeType = "rope_type", type, ropeTheta = "rope_theta"
        }

        var kind: String { ropeType ?? type ?? "default" }
    }

    private struct RopeParameters: Decodable {
        let slidingAttention: RopeType?
        let fullAttention: RopeType?

        enum CodingKeys: String, CodingKey {
            case slidingAttention = "sliding_attention", fullAttention = "full_attention"
        }
    }

    private enum Keys: String, CodingKey {
        case vocabSize = "vocab_size", hiddenSize = "hidden_size", intermediateSize = "intermediate_size"
        case layers = "num_hidden_layers", heads = "num_attention_heads", kvHeads = "num_key_value_heads"
        case headDim = "head_dim", activation = "hidden_activation", maxPositions = "max_position_embeddings"
        case epsilon = "rms_norm_eps", tie = "tie_word_embeddings", attentionBias = "attention_bias"
        case queryPreAttentionScalar = "query_pre_attn_scalar", slidingWindow = "sliding_window"
        case layerTypes = "layer_types", slidingWindowPattern = "sliding_window_pattern"
        case privatePattern = "_sliding_window_pattern"
        case finalSoftcap = "final_logit_softcapping", attentionSoftcap = "attn_logit_softcapping"
        case bidirectional = "use_bidirectional_attention", ropeParameters = "rope_parameters"
        case ropeScaling = "rope_scaling", ropeTheta = "rope_theta", localBase = "rope_local_base_freq"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
        layers = try c.decode(Int.self, forKey: .layers)
        heads = try c.decode(Int.self, forKey: .heads)
        kvHeads = try c.decodeIfPresent(Int.self, forKey: .kvHeads) ?? heads
        headDim = try c.decodeIfPresent(Int.self, forKey: .headDim)
        activation = try c.decodeIfPresent(String.self, forKey: .activation) ?? "gelu_pytorch_tanh"
        maxPositions = try c.decodeIfPresent(Int.self, forKey: .maxPositions) ?? 131_072
        epsilon = try c.decodeIfPresent(Float.self, forKey: .epsilon) ?? 1e-6
        tiedEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tie) ?? true
        attentionBias = try c.decodeIfPresent(Bool.self, forKey: .attentionBias) ?? false
        queryPreAttentionScalar = try c.decodeIfPresent(Float.self, forKey: .queryPreAttentionScalar) ?? 256
        slidingWindow = try c.decodeIfPresent(Int.self, forKey: .slidingWindow) ?? 4096
        layerTypes = try c.decodeIfPresent([String].self, forKey: .layerTypes)
        slidingWindowPattern = try c.decodeIfPresent(Int.self, forKey: .slidingWindowPattern)
            ?? c.decodeIfPresent(Int.self, forKey: .privatePattern) ?? 6
        finalLogitSoftcapping = try c.decodeIfPresent(Float.self, forKey: .finalSoftcap)
        attentionLogitSoftcapping = try c.decodeIfPresent(Float.self, forKey: .attentionSoftcap)
        bidirectional = try c.decodeIfPresent(Bool.self, forKey: .bidirectional) ?? false
        let parameters = try c.decodeIfPresent(RopeParameters.self, forKey: .ropeParameters)
        var global = parameters?.fullAttention ?? RopeType()
        if let scaling = try c.decodeIfPresent(RopeType.self, forKey: .ropeScaling) {
            global.ropeType = scaling.ropeType ?? scaling.type ?? global.ropeType
        }
        if global.ropeTheta == nil { global.ropeTheta = try c.decodeIfPresent(Float.self, forKey: .ropeTheta) ?? 1_000_000 }
        var local = parameters?.slidingAttention ?? RopeType()
        if local.ropeTheta == nil { local.ropeTheta = try c.decodeIfPresent(Float.self, forKey: .localBase) ?? 10_000 }
        globalRope = global
        localRope = local
    }

    func modelConfig(reject: (String) -> InputError) throws -> ModelConfig {
        guard let headDim else {
            throw reject("head_dim is missing: Gemma 3's head size is its own (not hidden_size / num_attention_heads), so the config must state it")
        }
        guard activation == "gelu_pytorch_tanh" else {
            throw reject("unsupported hidden_activation \(activation) for gemma3_text (gelu_pytorch_tanh only)")
        }
        if let cap = finalLogitSoftcapping { throw reject("unsupported final_logit_softcapping \(cap) (logits without softcapping only)") }
        if let cap = attentionLogitSoftcapping { throw reject("unsupported attn_logit_softcapping \(cap) (attention scores without softcapping only)") }
        if bidirectional { throw reject("unsupported use_bidirectional_attention: true (causal attention only)") }
        for (name, rope) in [("full_attention", globalRope), ("sliding_attention", localRope)] where rope.kind != "default" {
            throw reject("unsupported rope type \(rope.kind) for \(name) layers (default RoPE only)")
        }
        let windowed: [Bool]
        if let layerTypes {
            guard layerTypes.count == layers else {
                throw reject("layer_types names \(layerTypes.count) layers; num_hidden_layers is \(layers)")
            }
            windowed = try layerTypes.map { type in
                switch type {
                case "sliding_attention": return true
                case "full_attention": return false
                default: throw reject("unsupported layer type \(type) in layer_types (sliding_attention or full_attention)")
                }
            }
        } else {
            guard slidingWindowPattern > 0 else { throw reject("sliding_window_pattern \(slidingWindowPattern) must be positive") }
            windowed = (0..<layers).map { ($0 + 1) % slidingWindowPattern != 0 }
        }
        var config = ModelConfig(
            architecture: .gemma3, vocabularySize: vocabSize, hiddenSize: hiddenSize, layerCount: layers,
            headCount: heads, kvHeadCount: kvHeads, headDim: headDim, intermediateSize: intermediateSize,
            normEpsilon: epsilon, ropeTheta: globalRope.ropeTheta!, ropeScaling: nil, contextLength: maxPositions,
            attentionQKVBias: attentionBias, attentionOutputBias: attentionBias, tiedEmbeddings: tiedEmbeddings,
            slidingWindow: slidingWindow)
        config.slidingWindowLayers = windowed
        config.localRopeTheta = localRope.ropeTheta
        config.queryPreAttentionScalar = queryPreAttentionScalar
        return config
    }
}
