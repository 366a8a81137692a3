import Shared

/// A GGUF file seen as a TensorSource: ggml's dimension order (ne[0] fastest) reversed into
/// the row-major shapes Hugging Face uses, so the same name tables and shape checks apply.
struct GGUFTensorSource: TensorSource {
    let file: GGUFFile

    var path: String { file.path }
    var tensorNames: [String] { file.tensors.map(\.name) }

    func shape(of name: String) -> [Int]? {
        file.tensorInfo(named: name).map { Array($0.dimensions.reversed()) }
    }

    func floats(_ name: String) throws -> [Float] {
        guard let info = file.tensorInfo(named: name) else {
            throw InputError(file: file.path, "missing tensor \(name)")
        }
        return try file.dequantize(info)
    }
}

extension ModelConfig {
    /// Reads the architecture's hyper-parameters from GGUF metadata (`{arch}.*` keys).
    init(gguf file: GGUFFile) throws {
        let arch = try file.string("general.architecture")
        guard let architecture = Architecture(rawValue: arch), [.llama, .qwen2, .gemma3].contains(architecture) else {
            throw InputError(file: file.path, "unsupported architecture '\(arch)' in GGUF (supported: llama, qwen2, gemma3; GPT-2 and GPT-NeoX load from Hugging Face safetensors)")
        }
        let hidden = try file.int("\(arch).embedding_length")
        let heads = try file.int("\(arch).attention.head_count")
        let headDim = try file.optionalInt("\(arch).attention.key_length") ?? hidden / max(heads, 1)
        if let rotated = try file.optionalInt("\(arch).rope.dimension_count"), rotated != headDim {
            throw InputError(file: file.path, "partial rotary embeddings (\(rotated) of \(headDim) head dimensions) are not supported")
        }
        if let scaling = try file.optionalString("\(arch).rope.scaling.type"), scaling != "none" {
            throw InputError(file: file.path, "unsupported RoPE scaling type '\(scaling)'")
        }
        let vocabulary = try file.optionalInt("\(arch).vocab_size")
            ?? file.optionalStringArray("tokenizer.ggml.tokens")?.count
            ?? file.tensorInfo(named: WeightNames.gguf.embedding)?.dimensions.last ?? 0
        let layerNames = WeightNames.gguf.layer(0)
        self.init(
            architecture: architecture,
            vocabularySize: vocabulary,
            hiddenSize: hidden,
            layerCount: try file.int("\(arch).block_count"),
            headCount: heads,
            kvHeadCount: try file.optionalInt("\(arch).attention.head_count_kv") ?? heads,
            headDim: headDim,
            intermediateSize: try file.int("\(arch).feed_forward_length"),
            normEpsilon: try file.float("\(arch).attention.layer_norm_rms_epsilon"),
            ropeTheta: try file.optionalFloat("\(arch).rope.freq_base") ?? 10000,
            ropeScaling: nil,
            contextLength: try file.optionalInt("\(arch).context_length") ?? 2048,
            attentionQKVBias: file.tensorInfo(named: layerNames.queryBias) != nil,
            attentionOutputBias: file.tensorInfo(named: layerNames.outputBias) != nil,
            tiedEmbeddings: file.tensorInfo(named: WeightNames.gguf.unembedding) == nil)
        if architecture == .gemma3 { try completeGemma3(from: file) }
        try validate(source: file.path)
    }
}

extension GGUFTokenizerData {
    /// The `tokenizer.ggml.*` keys of a GGUF file.
    init(gguf file: GGUFFile) throws {
        guard let tokens = try file.optionalStringArray("tokenizer.ggml.tokens") else {
            throw InputError(file: file.path, "has no tokenizer (tokenizer.ggml.tokens is missing)")
        }
        self.init(
            model: try file.string("tokenizer.ggml.model"),
            pre: try file.optionalString("tokenizer.ggml.pre"),
            tokens: tokens,
            tokenTypes: try file.optionalIntArray("tokenizer.ggml.token_type"),
            merges: try file.optionalStringArray("tokenizer.ggml.merges"),
            scores: try file.optionalFloatArray("tokenizer.ggml.scores"),
            bosID: try file.optionalInt("tokenizer.ggml.bos_token_id"),
            eosID: try file.optionalInt("tokenizer.ggml.eos_token_id"),
            unknownID: try file.optionalInt("tokenizer.ggml.unknown_token_id"),
            paddingID: try file.optionalInt("tokenizer.ggml.padding_token_id"),
            addBOS: try file.optionalBool("tokenizer.ggml.add_bos_token"),
            addEOS: try file.optionalBool("tokenizer.ggml.add_eos_token"),
            addSpacePrefix: try file.optionalBool("tokenizer.ggml.add_space_prefix"))
    }
}
