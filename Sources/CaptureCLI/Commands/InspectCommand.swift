import ArgumentParser
import Capture

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Shows a model's architecture, sizes, storage types and tokenizer.",
        discussion: """
            Example:
              icl-capture inspect --model models/SmolLM2-135M-Instruct.Q4_1.gguf
              icl-capture inspect --model models/gemma-3-270m-q4_k_m.gguf --json
            """)

    @OptionGroup var model: ModelOptions
    @Flag(help: "Print JSON.") var json = false

    struct Report: Encodable {
        let path, format, architecture: String
        let name: String?
        let vocabularySize, hiddenSize, layerCount, headCount, kvHeadCount, headDim, intermediateSize, contextLength: Int
        let slidingWindow: Int?
        /// Which layers use the window (nil: every layer).
        let slidingWindowLayers: [Bool]?
        /// "rms" or "layer"; "rotary" or "learned"; "swiGLU", "gelu", "geluErf" or "geGLU".
        let normalization, positions, mlp: String
        /// The head dimensions RoPE rotates (head_dim unless partial, GPT-NeoX).
        let rotaryDimensions: Int
        /// Attention and MLP read the same layer input (GPT-NeoX's use_parallel_residual).
        let parallelResidual: Bool
        let normEpsilon, ropeTheta: Float
        /// The sliding-window layers' RoPE base where it differs (Gemma 3).
        let localRopeTheta: Float?
        /// q · k is scaled by this (1/sqrt(head_dim) unless the config says otherwise).
        let attentionScale: Float
        /// Gemma 3: the token embeddings are multiplied by this (sqrt(d_model)).
        let embeddingScale: Float?
        /// Gemma 3: norms on the block outputs and on the query and key heads.
        let blockOutputNorms, queryKeyNorms: Bool
        let ropeScaling: ModelConfig.Llama3RopeScaling?
        let ropeFrequencyFactors: Bool
        let attentionQKVBias, attentionOutputBias, tiedEmbeddings: Bool
        let tensorTypes: [String: Int]
        let tokenizer: String
        let bosTokenID, eosTokenID: Int32?
        let addsBOSByDefault: Bool
    }

    func run() throws {
        let loaded = try model.load()
        let c = loaded.config, t = loaded.tokenizer
        let report = Report(
            path: loaded.path, format: loaded.format.rawValue, architecture: c.architecture.rawValue, name: loaded.name,
            vocabularySize: c.vocabularySize, hiddenSize: c.hiddenSize, layerCount: c.layerCount,
            headCount: c.headCount, kvHeadCount: c.kvHeadCount, headDim: c.headDim,
            intermediateSize: c.intermediateSize, contextLength: c.contextLength, slidingWindow: c.slidingWindow,
            slidingWindowLayers: c.slidingWindowLayers,
            normalization: c.architecture.normalization.rawValue, positions: c.architecture.positions.rawValue,
            mlp: c.architecture.mlp.rawValue, rotaryDimensions: c.rotaryDimensions,
            parallelResidual: c.parallelResidual, normEpsilon: c.normEpsilon, ropeTheta: c.ropeTheta,
            localRopeTheta: c.localRopeTheta, attentionScale: c.attentionScale, embeddingScale: c.embeddingScale,
            blockOutputNorms: c.architecture.normsBlockOutputs, queryKeyNorms: c.architecture.normsQueriesAndKeys,
            ropeScaling: c.ropeScaling,
            ropeFrequencyFactors: loaded.transformer.weights.ropeFrequencyFactors != nil,
            attentionQKVBias: c.attentionQKVBias, attentionOutputBias: c.attentionOutputBias,
            tiedEmbeddings: c.tiedEmbeddings, tensorTypes: loaded.tensorTypes, tokenizer: t.summary,
            bosTokenID: t.bosTokenID, eosTokenID: t.eosTokenID, addsBOSByDefault: t.addsBOSByDefault)
        if json { return try printJSON(report) }

        func token(_ id: Int32?) -> String { id.map { "\(t.tokenText($0).debugDescription) (\($0))" } ?? "none" }
        let rope = c.ropeScaling.map { "llama3 scaling x\($0.factor)" }
            ?? (report.ropeFrequencyFactors ? "per-frequency factors (rope_freqs)" : "no scaling")
        let windowedLayers = c.slidingWindowLayers.map { "\($0.filter { $0 }.count) of \(c.layerCount) layers" }
            ?? "every layer"
        let partial = c.rotaryDimensions < c.headDim ? ", on \(c.rotaryDimensions) of \(c.headDim) head dimensions" : ""
        let mlpName = switch c.architecture.mlp {
        case .swiGLU: "SwiGLU"
        case .gelu: "GELU (tanh)"
        case .geluErf: "GELU (erf)"
        case .geGLU: "GeGLU (tanh GELU)"
        }
        let types = loaded.tensorTypes.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }
        let localRope = c.localRopeTheta.map { " (sliding-window layers: theta \($0))" } ?? ""
        let gemmaNorms = c.architecture.normsBlockOutputs
            ? "; also after attention and the MLP, and on q/k heads; embeddings x \(c.embeddingScale ?? 1)" : ""
        print("""
            model:        \(loaded.path) (\(loaded.format.rawValue))\(loaded.name.map { "\nname:         \($0)" } ?? "")
            architecture: \(c.architecture.rawValue): \(c.layerCount) layers, d_model \(c.hiddenSize), d_ff \(c.intermediateSize), vocabulary \(c.vocabularySize)
            attention:    \(c.headCount) heads of \(c.headDim), \(c.kvHeadCount) KV heads (\(c.groupSize) query heads each), scores x \(c.attentionScale)\(c.slidingWindow.map { "; sliding window \($0) on \(windowedLayers)" } ?? "")
            positions:    \(c.architecture.positions == .rotary ? "rope theta \(c.ropeTheta)\(localRope), \(rope)\(partial)" : "learned"); context \(c.contextLength) tokens
            norm, MLP:    \(c.architecture.normalization == .rms ? "RMSNorm" : "LayerNorm") eps \(c.normEpsilon)\(gemmaNorms); \(mlpName) MLP\(c.parallelResidual ? ", parallel to attention" : "")
            biases:       q/k/v \(c.attentionQKVBias ? "yes" : "no"), output \(c.attentionOutputBias ? "yes" : "no"); tied embeddings \(c.tiedEmbeddings ? "yes" : "no")
            tensors:      \(loaded.tensorTypes.values.reduce(0, +)) (\(types.joined(separator: ", ")))
            tokenizer:    \(t.summary)
            BOS:          \(token(t.bosTokenID)), added by default: \(t.addsBOSByDefault ? "yes" : "no"); EOS: \(token(t.eosTokenID))
            """)
    }
}
