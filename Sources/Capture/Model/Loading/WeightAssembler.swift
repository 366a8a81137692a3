import Shared

// Legend: D = d_model, H = query heads, K = KV heads, E = head_dim, F = d_ff, V = vocabulary.

/// Builds the engine's ModelWeights from a checkpoint: checks every tensor's shape, fuses
/// q/k/v and gate/up (SwiGLU), reads norm and MLP biases where the architecture has them, and fails on any missing or unused tensor (a name-table mistake must
/// not load silently).
struct WeightAssembler {
    let source: TensorSource
    let names: WeightNames
    let config: ModelConfig
    /// llama.cpp's converter interleaves the two RoPE halves of every q and k head for its
    /// adjacent-pair RoPE; the engine uses transformers' rotate_half order, so they are undone.
    let undoQueryKeyPermutation: Bool
    /// Added to every RMSNorm weight to give the gain the engine multiplies by: 1 for Hugging
    /// Face Gemma checkpoints, whose norms compute x * (1 + w); 0 elsewhere, GGUF Gemma files
    /// included, where llama.cpp's converter has already stored 1 + w (docs/methods.md §24).
    var normWeightOffset: Float = 0

    func assemble() throws -> ModelWeights {
        var used = Set<String>()
        func read(_ name: String, _ shape: [Int]) throws -> [Float] {
            guard let actual = source.shape(of: name) else {
                throw InputError(file: source.path, "missing tensor \(name)")
            }
            if actual != shape {
                throw InputError(file: source.path, "tensor \(name) has shape \(actual), expected \(shape)")
            }
            used.insert(name)
            return try source.floats(name)
        }
        func present(_ name: String) -> Bool { source.shape(of: name) != nil }
        // RMSNorm gains: [count]
        func gain(_ name: String, _ count: Int) throws -> FloatBuffer {
            FloatBuffer(try read(name, [count]).map { $0 + normWeightOffset })
        }

        let c = config, d = c.hiddenSize, e = c.headDim, f = c.intermediateSize
        let queryRows = c.headCount * e, kvRows = c.kvHeadCount * e
        let layerNorm = c.architecture.normalization == .layer, gelu = !c.architecture.mlp.isGated
        let outputNorms = c.architecture.normsBlockOutputs, headNorms = c.architecture.normsQueriesAndKeys

        let embedding = FloatBuffer(try read(names.embedding, [c.vocabularySize, d]))
        var layers: [LayerWeights] = []
        for l in 0..<c.layerCount {
            let n = names.layer(l)
            var query = try read(n.query, [queryRows, d]), key = try read(n.key, [kvRows, d])
            var qkvBias: FloatBuffer?
            if c.attentionQKVBias {
                var queryBias = try read(n.queryBias, [queryRows]), keyBias = try read(n.keyBias, [kvRows])
                if undoQueryKeyPermutation {
                    queryBias = Self.unpermuteRoPERows(queryBias, heads: c.headCount, headDim: e, width: 1)
                    keyBias = Self.unpermuteRoPERows(keyBias, heads: c.kvHeadCount, headDim: e, width: 1)
                }
                qkvBias = FloatBuffer(queryBias + keyBias + (try read(n.valueBias, [kvRows])))
            }
            if undoQueryKeyPermutation {
                query = Self.unpermuteRoPERows(query, heads: c.headCount, headDim: e, width: d)
                key = Self.unpermuteRoPERows(key, heads: c.kvHeadCount, headDim: e, width: d)
            }
            let value = try read(n.value, [kvRows, d])
            func normBias(_ name: String) throws -> FloatBuffer? {
                layerNorm ? FloatBuffer(try read(name, [d])) : nil
            }
            layers.append(LayerWeights(
                attentionNorm: try gain(n.attentionNorm, d),
                attentionNormBias: try normBias(n.attentionNormBias),
                qkv: FloatBuffer(query + key + value),
                qkvBias: qkvBias,
                output: FloatBuffer(try read(n.output, [d, queryRows])),
                outputBias: c.attentionOutputBias ? FloatBuffer(try read(n.outputBias, [d])) : nil,
                mlpNorm: try gain(n.mlpNorm, d),
                mlpNormBias: try normBias(n.mlpNormBias),
                gateUp: FloatBuffer(gelu ? try read(n.up, [f, d]) : try read(n.gate, [f, d]) + read(n.up, [f, d])),
                gateUpBias: gelu ? FloatBuffer(try read(n.upBias, [f])) : nil,
                down: FloatBuffer(try read(n.down, [d, f])),
                downBias: gelu ? FloatBuffer(try read(n.downBias, [d])) : nil,
                attentionOutputNorm: outputNorms ? try gain(n.attentionOutputNorm, d) : nil,
                mlpOutputNorm: outputNorms ? try gain(n.mlpOutputNorm, d) : nil,
                queryNorm: headNorms ? try gain(n.queryNorm, e) : nil,
                keyNorm: headNorms ? try gain(n.keyNorm, e) : nil))
        }
        let finalNorm = try gain(names.finalNorm, d)
        let finalNormBias = layerNorm ? FloatBuffer(try read(names.finalNormBias, [d])) : nil
        let positionEmbedding = c.architecture.positions == .learned
            ? FloatBuffer(try read(names.positionEmbedding, [c.contextLength, d])) : nil
        let unembedding: FloatBuffer
        if c.tiedEmbeddings {
            // Tied checkpoints may still carry a copy of the matrix; it is the embedding.
            if present(names.unembedding) { used.insert(names.unembedding) }
            unembedding = embedding
        } else {
            unembedding = FloatBuffer(try read(names.unembedding, [c.vocabularySize, d]))
        }
        var frequencyFactors: [Float]?
        if let name = names.ropeFrequencies, present(name) {
            frequencyFactors = try read(name, [e / 2])
        }

        let unused = source.tensorNames.filter { !used.contains($0) && !names.ignorable($0) }
        if !unused.isEmpty {
            let listed = unused.prefix(5).joined(separator: ", ") + (unused.count > 5 ? ", ..." : "")
            throw InputError(file: source.path, "\(unused.count) tensors the \(c.architecture.rawValue) architecture does not use: \(listed)")
        }
        return ModelWeights(embedding: embedding, layers: layers, finalNorm: finalNorm, finalNormBias: finalNormBias,
                            positionEmbedding: positionEmbedding, unembedding: unembedding, ropeFrequencyFactors: frequencyFactors)
    }

    /// Inverse of llama.cpp's `permute` (convert_hf_to_gguf.py): within each head the GGUF rows
    /// are (pair j, half s) in the order 2j + s; transformers' rows are s * E/2 + j.
    /// rows: [heads * E, width] -> [heads * E, width]
    static func unpermuteRoPERows(_ rows: [Float], heads: Int, headDim: Int, width: Int) -> [Float] {
        var out = [Float](repeating: 0, count: rows.count)
        let half = headDim / 2
        for h in 0..<heads {
            for j in 0..<half {
                for s in 0..<2 {
                    let from = (h * headDim + 2 * j + s) * width
                    let to = (h * headDim + s * half + j) * width
                    for i in 0..<width { out[to + i] = rows[from + i] }
                }
            }
        }
        return out
    }
}
