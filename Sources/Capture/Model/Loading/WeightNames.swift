/// Tensor names of one layer in a checkpoint format.
struct LayerWeightNames {
    let attentionNorm, query, key, value, output, mlpNorm, gate, up, down: String
    let queryBias, keyBias, valueBias, outputBias: String
    /// LayerNorm biases and the GELU MLP's biases (GPT-2); absent from RMSNorm/SwiGLU models.
    var attentionNormBias = "", mlpNormBias = "", upBias = "", downBias = ""
    /// Gemma 3's norms of the block outputs and of the query and key heads.
    var attentionOutputNorm = "", mlpOutputNorm = "", queryNorm = "", keyNorm = ""
}

/// Where each of the engine's weights sits in a checkpoint format: the only per-format
/// knowledge the loader has besides GGUF's Q/K row order.
struct WeightNames: Sendable {
    let embedding: String
    let finalNorm: String
    /// LayerNorm models only.
    var finalNormBias = ""
    /// Learned absolute positions (GPT-2's wpe).
    var positionEmbedding = ""
    /// Absent from models that tie the unembedding to the embedding.
    let unembedding: String
    /// Present in GGUF files of Llama 3.1-style models only.
    let ropeFrequencies: String?
    /// Names that may be present and carry nothing the engine needs.
    let ignorable: @Sendable (String) -> Bool
    let layer: @Sendable (Int) -> LayerWeightNames

    init(embedding: String, finalNorm: String, finalNormBias: String = "", positionEmbedding: String = "",
         unembedding: String, ropeFrequencies: String?, ignorable: @escaping @Sendable (String) -> Bool,
         layer: @escaping @Sendable (Int) -> LayerWeightNames) {
        self.embedding = embedding
        self.finalNorm = finalNorm
        self.finalNormBias = finalNormBias
        self.positionEmbedding = positionEmbedding
        self.unembedding = unembedding
        self.ropeFrequencies = ropeFrequencies
        self.ignorable = ignorable
        self.layer = layer
    }

    /// llama.cpp's names (gguf-py's tensor_mapping); in gemma3 files ffn_norm is the norm before
    /// the MLP (pre_feedforward_layernorm) and the block output norms have names of their own.
    static let gguf = WeightNames(
        embedding: "token_embd.weight", finalNorm: "output_norm.weight", unembedding: "output.weight",
        ropeFrequencies: "rope_freqs.weight", ignorable: { _ in false },
        layer: { l in
            let p = "blk.\(l)."
            var names = LayerWeightNames(
                attentionNorm: p + "attn_norm.weight", query: p + "attn_q.weight", key: p + "attn_k.weight",
                value: p + "attn_v.weight", output: p + "attn_output.weight", mlpNorm: p + "ffn_norm.weight",
                gate: p + "ffn_gate.weight", up: p + "ffn_up.weight", down: p + "ffn_down.weight",
                queryBias: p + "attn_q.bias", keyBias: p + "attn_k.bias", valueBias: p + "attn_v.bias",
                outputBias: p + "attn_output.bias")
            names.attentionOutputNorm = p + "post_attention_norm.weight"
            names.mlpOutputNorm = p + "post_ffw_norm.weight"
            names.queryNorm = p + "attn_q_norm.weight"
            names.keyNorm = p + "attn_k_norm.weight"
            return names
        })

    /// transformers' names for Gemma3ForCausalLM: post_attention_layernorm is the norm of the
    /// attention output here, and pre_feedforward_layernorm the norm before the MLP.
    static let gemma3 = WeightNames(
        embedding: "model.embed_tokens.weight", finalNorm: "model.norm.weight", unembedding: "lm_head.weight",
        ropeFrequencies: nil, ignorable: { _ in false },
        layer: { l in
            let p = "model.layers.\(l)."
            var names = LayerWeightNames(
                attentionNorm: p + "input_layernorm.weight", query: p + "self_attn.q_proj.weight",
                key: p + "self_attn.k_proj.weight", value: p + "self_attn.v_proj.weight",
                output: p + "self_attn.o_proj.weight", mlpNorm: p + "pre_feedforward_layernorm.weight",
                gate: p + "mlp.gate_proj.weight", up: p + "mlp.up_proj.weight", down: p + "mlp.down_proj.weight",
                queryBias: p + "self_attn.q_proj.bias", keyBias: p + "self_attn.k_proj.bias",
                valueBias: p + "self_attn.v_proj.bias", outputBias: p + "self_attn.o_proj.bias")
            names.attentionOutputNorm = p + "post_attention_layernorm.weight"
            names.mlpOutputNorm = p + "post_feedforward_layernorm.weight"
            names.queryNorm = p + "self_attn.q_norm.weight"
            names.keyNorm = p + "self_attn.k_norm.weight"
            return names
        })

    /// transformers' names for LlamaForCausalLM, MistralForCausalLM and Qwen2ForCausalLM.
    static let huggingFace = WeightNames(
        embedding: "model.embed_tokens.weight", finalNorm: "model.norm.weight", unembedding: "lm_head.weight",
        ropeFrequencies: nil,
        // Older checkpoints saved RoPE's inverse frequencies as a buffer; they are recomputed.
        ignorable: { $0.hasSuffix(".rotary_emb.inv_freq") },
        layer: { l in
            let p = "model.layers.\(l)."
            return LayerWeightNames(
                attentionNorm: p + "input_layernorm.weight", query: p + "self_attn.q_proj.weight",
                key: p + "self_attn.k_proj.weight", value: p + "self_attn.v_proj.weight",
                output: p + "self_attn.o_proj.weight", mlpNorm: p + "post_attention_layernorm.weight",
                gate: p + "mlp.gate_proj.weight", up: p + "mlp.up_proj.weight", down: p + "mlp.down_proj.weight",
                queryBias: p + "self_attn.q_proj.bias", keyBias: p + "self_attn.k_proj.bias",
                valueBias: p + "self_attn.v_proj.bias", outputBias: p + "self_attn.o_proj.bias")
        })

    /// GPT-2's names as GPT2TensorSource presents them: without the `transformer.` prefix, the
    /// fused c_attn split into q, k and v, Conv1D weights transposed to [out, in].
    static let gpt2 = WeightNames(
        embedding: "wte.weight", finalNorm: "ln_f.weight", finalNormBias: "ln_f.bias",
        positionEmbedding: "wpe.weight", unembedding: "lm_head.weight", ropeFrequencies: nil,
        // The causal-mask buffers older checkpoints saved with the weights.
        ignorable: { $0.hasSuffix(".attn.bias") || $0.hasSuffix(".attn.masked_bias") },
        layer: { l in
            let p = "h.\(l)."
            var names = LayerWeightNames(
                attentionNorm: p + "ln_1.weight", query: p + "attn.c_attn.q.weight", key: p + "attn.c_attn.k.weight",
                value: p + "attn.c_attn.v.weight", output: p + "attn.c_proj.weight", mlpNorm: p + "ln_2.weight",
                gate: "", up: p + "mlp.c_fc.weight", down: p + "mlp.c_proj.weight",
                queryBias: p + "attn.c_attn.q.bias", keyBias: p + "attn.c_attn.k.bias",
                valueBias: p + "attn.c_attn.v.bias", outputBias: p + "attn.c_proj.bias")
            names.attentionNormBias = p + "ln_1.bias"
            names.mlpNormBias = p + "ln_2.bias"
            names.upBias = p + "mlp.c_fc.bias"
            names.downBias = p + "mlp.c_proj.bias"
            return names
        })

    /// GPT-NeoX's names (GPTNeoXForCausalLM) as GPTNeoXTensorSource presents them: the fused
    /// query_key_value split into q, k and v, the untied unembedding `embed_out` (the name Pythia
    /// checkpoints use) or `lm_head` (transformers 5.x's name for it).
    static let gptNeoX = WeightNames(
        embedding: "gpt_neox.embed_in.weight", finalNorm: "gpt_neox.final_layer_norm.weight",
        finalNormBias: "gpt_neox.final_layer_norm.bias", unembedding: "embed_out.weight", ropeFrequencies: nil,
        // Buffers older checkpoints saved with the weights: the causal mask and RoPE's inverse frequencies.
        ignorable: { name in
            [".attention.bias", ".attention.masked_bias", ".rotary_emb.inv_freq"].contains { name.hasSuffix($0) }
        },
        layer: { l in
            let p = "gpt_neox.layers.\(l)."
            let qkv = p + "attention.query_key_value."
            var names = LayerWeightNames(
                attentionNorm: p + "input_layernorm.weight", query: qkv + "q.weight", key: qkv + "k.weight",
                value: qkv + "v.weight", output: p + "attention.dense.weight",
                mlpNorm: p + "post_attention_layernorm.weight", gate: "", up: p + "mlp.dense_h_to_4h.weight",
                down: p + "mlp.dense_4h_to_h.weight", queryBias: qkv + "q.bias", keyBias: qkv + "k.bias",
                valueBias: qkv + "v.bias", outputBias: p + "attention.dense.bias")
            names.attentionNormBias = p + "input_layernorm.bias"
            names.mlpNormBias = p + "post_attention_layernorm.bias"
            names.upBias = p + "mlp.dense_h_to_4h.bias"
            names.downBias = p + "mlp.dense_4h_to_h.bias"
            return names
        })
}
