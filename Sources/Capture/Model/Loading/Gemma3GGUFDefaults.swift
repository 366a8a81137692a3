import Shared

extension ModelConfig {
    /// A gemma3 GGUF file stores the sliding window but not which layers use it, the local
    /// layers' RoPE base or the attention scale: they take the values llama.cpp and
    /// transformers both use for Gemma 3 when loading such a file (docs/methods.md §24).
    mutating func completeGemma3(from file: GGUFFile) throws {
        for key in ["final_logit_softcapping", "attn_logit_softcapping"] {
            if let cap = try file.optionalFloat("gemma3.\(key)") {
                throw InputError(file: file.path, "unsupported gemma3.\(key) \(cap): the engine computes logits and attention scores without softcapping")
            }
        }
        slidingWindow = try file.int("gemma3.attention.sliding_window")
        // Every sixth layer is global: layer l slides unless (l + 1) is a multiple of 6
        // (transformers' sliding_window_pattern 6, llama.cpp's set_swa_pattern(6)).
        slidingWindowLayers = (0..<layerCount).map { ($0 + 1) % Self.gemma3SlidingWindowPattern != 0 }
        localRopeTheta = Self.gemma3LocalRopeTheta
        // llama.cpp scales scores by 1/sqrt(head_dim), except for the 62-layer 27B model, whose
        // query_pre_attn_scalar is d_model / heads.
        queryPreAttentionScalar = Float(layerCount == 62 ? hiddenSize / headCount : headDim)
    }

    static let gemma3SlidingWindowPattern = 6
    /// transformers' Gemma3TextConfig default `rope_local_base_freq`, llama.cpp's rope_freq_base_train_swa.
    static let gemma3LocalRopeTheta: Float = 10000
}
