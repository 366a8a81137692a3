import Shared

// Legend: N = tokens of the packed batch (all sequences back to back, no padding),
// T = one sequence's new tokens, P = its cached tokens, D = d_model, H = query heads,
// K = KV heads, E = head_dim, W = (H + 2K) * E, F = d_ff, V = vocabulary, L = layers.

/// Which positions get logits: computing them costs a [rows, D] x [D, V] GEMM.
public enum LogitsSelection: Sendable {
    case none
    /// The last new token of each sequence: logits [B, V].
    case last
    /// Every new token: logits [N, V].
    case all
}

/// One sequence of a forward call: its new tokens and where its past comes from. Without a
/// cache or prefix the tokens are a whole prompt starting at position 0.
public struct SequenceInput {
    public var tokens: [Int32]
    /// The sequence's own KV cache, which the call extends (generation).
    public var cache: KVCache?
    /// A read-only past shared with other sequences of the call: the tokens attend to it and
    /// start at its length, but their keys and values are not stored, so one prefix serves
    /// many continuations (interventions on the last token) without copies.
    public var prefix: KVCache?
    /// Enter the stack at a later layer with a given residual stream instead of the embedding.
    public var entry: StackEntry?

    public init(tokens: [Int32], cache: KVCache? = nil, prefix: KVCache? = nil, entry: StackEntry? = nil) {
        self.tokens = tokens
        self.cache = cache
        self.prefix = prefix
        self.entry = entry
    }
}

/// The residual stream entering `layer` for a sequence's new tokens: residual is [T, D]
/// (resid_pre[layer]). Layers below it are skipped for that sequence: its tokens join the
/// packed batch at that layer, which is exact when nothing below changes (an intervention on
/// the last token at `layer` or above, with the prefix's keys and values from a cache).
public struct StackEntry {
    public let layer: Int
    public let residual: [Float]

    public init(layer: Int, residual: [Float]) {
        self.layer = layer
        self.residual = residual
    }
}

public struct ForwardOutput {
    public let layout: BatchLayout
    public let selection: LogitsSelection
    public let vocabularySize: Int
    /// [rows, V]: one row per sequence (.last) or per packed token (.all).
    public let logits: [Float]

    /// Logits of sequence b's last new token.
    public func lastLogits(of sequence: Int) -> ArraySlice<Float> {
        let row: Int
        switch selection {
        case .none: return []
        case .last: row = sequence
        case .all:
            let span = layout.sequences[sequence]
            row = span.rowStart + span.tokenCount - 1
        }
        return logits[(row * vocabularySize)..<((row + 1) * vocabularySize)]
    }
}

/// The one decoder-only transformer engine: pre-norm blocks (RMSNorm or LayerNorm), sequential
/// or parallel attention and MLP, RoPE (whole or partial heads) or learned positions, attention
/// with grouped KV heads, SwiGLU, GELU or GeGLU MLP, and Gemma 3's extras (scaled embeddings,
/// q/k norms, norms on the block outputs, per-layer RoPE bases). Llama-family, Qwen2, GPT-2,
/// GPT-NeoX and Gemma 3 models differ only in their ModelConfig and weights.
public final class Transformer: @unchecked Sendable {
    public let config: ModelConfig
    public let weights: ModelWeights
    private let rope: RotaryEmbedding
    /// The sliding-window layers' RoPE, where their base differs (Gemma 3).
    private let localRope: RotaryEmbedding?
    private let attention: CausalAttention
    let norm: Norm
    private let headNorm: HeadNorm
    /// Each layer's weight products (packed weights where `weightPacking` allows).
    let products: [LayerProducts]
    /// The forward pass's activations, kept between calls: fresh multi-megabyte buffers cost a
    /// page fault per 4 KiB on every forward (1-2% of a 256-token prefill).
    private let scratch = FloatBufferPool()
    /// Whether the weight products run on packed weights (see WeightPacking).
    public var packsWeights: Bool { products.contains { $0.qkv.packed != nil } }

    /// Packs the layer weights (see WeightPacking) here: weights changed afterwards need a new
    /// Transformer.
    public init(config: ModelConfig, weights: ModelWeights, source: String,
                weightPacking: WeightPacking = .automatic) throws {
        try config.validate(source: source)
        try weights.validate(against: config, source: source)
        self.config = config
        self.weights = weights
        let pack = weightPacking.packs(weights)
        products = weights.layers.map { LayerProducts($0, config: config, pack: pack) }
        rope = RotaryEmbedding(config: config, frequencyFactors: weights.ropeFrequencyFactors)
        localRope = config.localRopeTheta.map {
            RotaryEmbedding(config: config, frequencyFactors: weights.ropeFrequencyFactors, theta: $0)
        }
        attention = CausalAttention(config: config)
        norm = Norm(kind: config.architecture.normalization, epsilon: config.normEpsilon)
        headNorm = HeadNorm(epsilon: config.normEpsilon)
    }

    /// One prompt from position 0, no cache.
    public func forward(tokens: [Int32], logits: LogitsSelection = .last,
                        hooks: Hooks? = nil) throws -> ForwardOutput {
        try forward([SequenceInput(tokens: tokens)], logits: logits, hooks: hooks)
    }

    /// Runs every sequence's new tokens through the model in one packed batch: each linear
    /// layer is one GEMM over all N tokens; attention stays within each sequence.
    public func forward(_ sequences: [SequenceInput], logits selection: LogitsSelection = .last,
                        hooks: Hooks? = nil) throws -> ForwardOutput {
        let batch = try plan(sequences)
        let n = batch.tokenCount
        let d = config.hiddenSize, e = config.headDim, f = config.intermediateSize
        let h = config.headCount, k = config.kvHeadCount
        let w = (h + 2 * k) * e, zWidth = h * e

        let x = scratch.zeroed(n * d)            // residual stream [N, D]
        let normed = scratch.zeroed(n * d)       // [N, D]
        let scale = scratch.zeroed(n)            // norm scales [N]
        let outputScale = scratch.zeroed(n)      // scales of a block output's norm (Gemma 3) [N]
        let mean = scratch.zeroed(n)             // LayerNorm row means [N]
        let qkv = scratch.zeroed(n * w)          // [N, W]
        let z = scratch.zeroed(n * zWidth)       // [N, H, E]
        let attnOut = scratch.zeroed(n * d)      // [N, D]
        let gateUp = scratch.zeroed(n * 2 * f)   // [N, 2F] (SwiGLU, GeGLU) or [N, F] (GELU)
        let act = scratch.zeroed(n * f)          // [N, F]
        let mlpOut = scratch.zeroed(n * d)       // [N, D]

        embed(sequences, layout: batch, into: x.pointer)
        let rotary = config.architecture.positions == .rotary
        let rotations = batch.sequences.map { rope.table(start: $0.pastLength, count: rotary ? $0.tokenCount : 0) }
        let localRotations = localRope.map { local in
            batch.sequences.map { local.table(start: $0.pastLength, count: $0.tokenCount) }
        }
        for sequence in sequences { sequence.cache?.reserve((sequence.cache?.length ?? 0) + sequence.tokens.count) }

        // After the last layer's attention, only the rows whose logits are asked for still matter
        // when nothing else is read (no hooks): the rest of that layer runs on those rows alone
        // (docs/methods.md §22.6). `finalLayout` describes the rows that leave the stack.
        let prunesLastLayer = hooks == nil && selection != .all
        var finalLayout = batch

        for (l, layer) in weights.layers.enumerated() {
            // Sequences are ordered by entry layer, so the ones in the stack at layer l are a
            // prefix of the batch: its first `active` sequences, rows [0, n).
            let active = sequences.prefix { ($0.entry?.layer ?? 0) <= l }.count
            var layout = BatchLayout(sequences: Array(batch.sequences.prefix(active)))
            var n = layout.tokenCount
            for (sequence, span) in zip(sequences, layout.sequences) where sequence.entry?.layer == l {
                sequence.entry!.residual.withUnsafeBufferPointer {
                    (x.pointer + span.rowStart * d).update(from: $0.baseAddress!, count: span.tokenCount * d)
                }
            }
            guard n > 0 else { continue }
            hooks?.run(.residPre(l), shape: [n, d], values: x.pointer, layout: layout)

            // Attention block.
            norm.run(x.pointer, gamma: layer.attentionNorm, beta: layer.attentionNormBias, rows: n, width: d,
                     scale: scale.pointer, mean: mean.pointer, into: normed.pointer)
            products[l].qkv.apply(normed.pointer, lda: d, qkv.pointer, ldc: w, m: n)
            if let bias = layer.qkvBias { Kernels.addBias(bias.pointer, to: qkv.pointer, count: n, width: w) }
            if let queryNorm = layer.queryNorm, let keyNorm = layer.keyNorm {
                headNorm.apply(qkv.pointer, count: n, stride: w, heads: h, headDim: e, gamma: queryNorm)
                headNorm.apply(qkv.pointer + h * e, count: n, stride: w, heads: k, headDim: e, gamma: keyNorm)
            }
            let layerRotations = config.attentionWindow(layer: l) != nil ? localRotations ?? rotations : rotations
            for (span, rotation) in zip(layout.sequences, layerRotations) where rotary {
                let rows = qkv.pointer + span.rowStart * w
                rope.apply(rows, stride: w, count: span.tokenCount, heads: h, cos: rotation.cos, sin: rotation.sin)
                rope.apply(rows + h * e, stride: w, count: span.tokenCount, heads: k,
                           cos: rotation.cos, sin: rotation.sin)
            }
            let sources = keyValueSources(Array(sequences.prefix(active)), layout: layout, layer: l, qkv: qkv.pointer)
            let patternBuffers = hooks?.isHooked(.attnPattern(l)) == true
                ? layout.sequences.map { FloatBuffer(count: h * $0.tokenCount * $0.keyCount) } : nil
            let lastRowBuffers = hooks?.isHooked(.attnLastQuery(l)) == true
                ? layout.sequences.map { FloatBuffer(count: h * $0.keyCount) } : nil
            attention.run(qkv: qkv.pointer, layout: layout, sources: sources, window: config.attentionWindow(layer: l),
                          z: z.pointer, patterns: patternBuffers?.map(\.pointer),
                          lastRows: lastRowBuffers?.map(\.pointer))
            for (b, span) in layout.sequences.enumerated() {
                if let patternBuffers {
                    hooks?.run(.attnPattern(l), shape: [h, span.tokenCount, span.keyCount],
                               values: patternBuffers[b].pointer, layout: layout, sequence: b)
                }
                if let lastRowBuffers {
                    hooks?.run(.attnLastQuery(l), shape: [h, span.keyCount], values: lastRowBuffers[b].pointer,
                               layout: layout, sequence: b)
                }
            }
            hooks?.run(.z(l), shape: [n, h, e], values: z.pointer, layout: layout)
            if prunesLastLayer && l == config.layerCount - 1 {
                // Every sequence is in the stack at the last layer. Rows move up in place (row r
                // to row i <= r, in order) and go through the rest on their own: the packed
                // products give each row the result it has among all rows, bit for bit.
                let kept = selection == .last ? layout.sequences.map { $0.rowStart + $0.tokenCount - 1 } : []
                for (i, r) in kept.enumerated() where i != r {
                    (x.pointer + i * d).update(from: x.pointer + r * d, count: d)
                    (z.pointer + i * zWidth).update(from: z.pointer + r * zWidth, count: zWidth)
                }
                layout = BatchLayout(sequences: layout.sequences.enumerated().map { i, span in
                    SequenceSpan(rowStart: i, tokenCount: 1, pastLength: span.keyCount - 1)
                })
                n = kept.count
                finalLayout = layout
                if n == 0 { break }
            }
            products[l].output.apply(z.pointer, lda: zWidth, attnOut.pointer, ldc: d, m: n)
            if let bias = layer.outputBias { Kernels.addBias(bias.pointer, to: attnOut.pointer, count: n, width: d) }
            if let outputNorm = layer.attentionOutputNorm {
                // Gemma 3: the block adds norm(o), o = z · W_O^T, with the scale the dump keeps.
                norm.run(attnOut.pointer, gamma: outputNorm, beta: nil, rows: n, width: d, scale: outputScale.pointer,
                         mean: mean.pointer, into: attnOut.pointer)
                hooks?.run(.attnPostNormScale(l), shape: [n], values: outputScale.pointer, layout: layout)
            }
            hooks?.run(.attnOut(l), shape: [n, d], values: attnOut.pointer, layout: layout)
            if config.parallelResidual {
                // The MLP's norm reads the layer's input, before attn_out joins it (docs/methods.md §25).
                norm.run(x.pointer, gamma: layer.mlpNorm, beta: layer.mlpNormBias, rows: n, width: d,
                         scale: scale.pointer, mean: mean.pointer, into: normed.pointer)
            }
            Kernels.add(attnOut.pointer, into: x.pointer, count: n * d)
            hooks?.run(.residMid(l), shape: [n, d], values: x.pointer, layout: layout)

            // MLP block.
            if !config.parallelResidual {
                norm.run(x.pointer, gamma: layer.mlpNorm, beta: layer.mlpNormBias, rows: n, width: d,
                         scale: scale.pointer, mean: mean.pointer, into: normed.pointer)
            }
            mlp(layer, products: products[l], normed: normed.pointer, rows: n, gateUp: gateUp.pointer, act: act.pointer, into: mlpOut.pointer)
            if let outputNorm = layer.mlpOutputNorm {
                norm.run(mlpOut.pointer, gamma: outputNorm, beta: nil, rows: n, width: d, scale: outputScale.pointer,
                         mean: mean.pointer, into: mlpOut.pointer)
            }
            hooks?.run(.mlpOut(l), shape: [n, d], values: mlpOut.pointer, layout: layout)
            Kernels.add(mlpOut.pointer, into: x.pointer, count: n * d)
        }
        for sequence in sequences { sequence.cache?.advance(by: sequence.tokens.count) }

        hooks?.run(.residFinal, shape: [n, d], values: x.pointer, layout: batch)
        norm.statistics(x.pointer, rows: finalLayout.tokenCount, width: d, scale: scale.pointer, mean: mean.pointer)
        hooks?.run(.finalNormScale, shape: [n], values: scale.pointer, layout: batch)
        let logits = unembed(x.pointer, scale: scale.pointer, mean: mean.pointer, layout: finalLayout,
                             selection: selection, hooks: hooks)
        return ForwardOutput(layout: batch, selection: selection, vocabularySize: config.vocabularySize,
                             logits: logits)
    }

    /// Lays the sequences out back to back and checks their tokens, lengths and entries.
    private func plan(_ sequences: [SequenceInput]) throws -> BatchLayout {
        var spans: [SequenceSpan] = []
        var row = 0
        var lastEntry = 0
        for (b, sequence) in sequences.enumerated() {
            let past = sequence.cache?.length ?? sequence.prefix?.length ?? 0
            if sequence.tokens.isEmpty { throw InputError(file: nil, "sequence \(b) has no tokens") }
            if sequence.cache != nil && sequence.prefix != nil {
                throw InputError(file: nil, "sequence \(b) has both its own KV cache and a shared prefix")
            }
            if let entry = sequence.entry {
                guard (0..<config.layerCount).contains(entry.layer) else {
                    throw InputError(file: nil, "sequence \(b) enters at layer \(entry.layer); the model has \(config.layerCount)")
                }
                guard entry.residual.count == sequence.tokens.count * config.hiddenSize else {
                    throw InputError(file: nil, "sequence \(b): its entry residual has \(entry.residual.count) values, expected tokens x d_model = \(sequence.tokens.count * config.hiddenSize)")
                }
                guard sequence.cache == nil else {
                    throw InputError(file: nil, "sequence \(b) enters mid-stack but has its own KV cache, whose lower layers it would leave unfilled")
                }
            }
            let entryLayer = sequence.entry?.layer ?? 0
            guard entryLayer >= lastEntry else {
                throw InputError(file: nil, "sequence \(b) enters at layer \(entryLayer), below an earlier sequence's \(lastEntry): order sequences by entry layer")
            }
            lastEntry = entryLayer
            if let bad = sequence.tokens.first(where: { $0 < 0 || Int($0) >= config.vocabularySize }) {
                throw InputError(file: nil, "token id \(bad) is outside the vocabulary (0..<\(config.vocabularySize))")
            }
            if let cache = sequence.cache ?? sequence.prefix, cache.layerCount != config.layerCount
                || cache.width != config.kvHeadCount * config.headDim {
                throw InputError(file: nil, "sequence \(b): KV cache was made for another model")
            }
            if past + sequence.tokens.count > config.contextLength {
                throw InputError(file: nil, "sequence \(b) has \(past + sequence.tokens.count) tokens, more than the model's context of \(config.contextLength)")
            }
            spans.append(SequenceSpan(rowStart: row, tokenCount: sequence.tokens.count, pastLength: past))
            row += sequence.tokens.count
        }
        return BatchLayout(sequences: spans)
    }

    /// The MLP block on normed rows: SwiGLU, GeGLU, or a GELU MLP with its biases (GPT-2's tanh
    /// GELU, GPT-NeoX's exact one). normed: [N, D]; gateUp: [N, 2F] scratch; act: [N, F] scratch -> out: [N, D]
    func mlp(_ layer: LayerWeights, products: LayerProducts, normed: UnsafePointer<Float>, rows n: Int, gateUp: UnsafeMutablePointer<Float>,
             act: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        let d = config.hiddenSize, f = config.intermediateSize
        switch config.architecture.mlp {
        case .swiGLU:
            products.gateUp.apply(normed, lda: d, gateUp, ldc: 2 * f, m: n)
            Kernels.swiGLU(gateUp, rows: n, width: f, into: act)
        case .geGLU:
            products.gateUp.apply(normed, lda: d, gateUp, ldc: 2 * f, m: n)
            Kernels.geGLU(gateUp, rows: n, width: f, into: act)
        case .gelu, .geluErf:
            products.gateUp.apply(normed, lda: d, act, ldc: f, m: n)
            Kernels.addBias(layer.gateUpBias!.pointer, to: act, count: n, width: f)
            if config.architecture.mlp == .gelu {
                Kernels.geluTanh(act, rows: n, width: f)
            } else {
                Kernels.geluErf(act, rows: n, width: f)
            }
        }
        products.down.apply(act, lda: f, out, ldc: d, m: n)
        if let bias = layer.downBias { Kernels.addBias(bias.pointer, to: out, count: n, width: d) }
    }

    /// x[r] = embedding row of token r (times sqrt(d_model), Gemma 3; plus the learned row of its
    /// position, GPT-2), for the sequences that start at layer 0. x: [N, D]
    private func embed(_ sequences: [SequenceInput], layout: BatchLayout, into x: UnsafeMutablePointer<Float>) {
        let d = config.hiddenSize
        for (sequence, span) in zip(sequences, layout.sequences) where sequence.entry == nil {
            for (t, token) in sequence.tokens.enumerated() {
                let row = x + (span.rowStart + t) * d
                row.update(from: weights.embedding.pointer + Int(token) * d, count: d)
                if let scale = config.embeddingScale {
                    for i in 0..<d { row[i] *= scale }
                }
                if let positions = weights.positionEmbedding {
                    Kernels.add(positions.pointer + (span.pastLength + t) * d, into: row, count: d)
                }
            }
        }
    }

    /// Stores this call's keys and values in each sequence's own cache (when it has one) and
    /// says where attention reads them.
    private func keyValueSources(_ sequences: [SequenceInput], layout: BatchLayout, layer: Int,
                                 qkv: UnsafePointer<Float>) -> [KeyValueSource] {
        let kvWidth = config.kvHeadCount * config.headDim
        return zip(sequences, layout.sequences).map { sequence, span in
            let own = KeyValueSource.Segment.ownRows(of: span, in: qkv, config: config)
            if let prefix = sequence.prefix {
                let shared = KeyValueSource.Segment(keys: prefix.keys(layer: layer), values: prefix.values(layer: layer),
                                                    stride: kvWidth, count: prefix.length)
                return KeyValueSource(segments: [shared, own])
            }
            guard let cache = sequence.cache else { return KeyValueSource(segments: [own]) }
            let keys = cache.keys(layer: layer), values = cache.values(layer: layer)
            for t in 0..<span.tokenCount {
                let position = span.pastLength + t
                (keys + position * kvWidth).update(from: own.keys + t * own.stride, count: kvWidth)
                (values + position * kvWidth).update(from: own.values + t * own.stride, count: kvWidth)
            }
            return KeyValueSource(segments: [KeyValueSource.Segment(keys: keys, values: values, stride: kvWidth,
                                                                    count: span.keyCount)])
        }
    }

    /// Final norm and unembedding of the selected rows -> logits [rows, V].
    private func unembed(_ x: UnsafePointer<Float>, scale: UnsafePointer<Float>, mean: UnsafePointer<Float>,
                         layout: BatchLayout,
                         selection: LogitsSelection, hooks: Hooks?) -> [Float] {
        let d = config.hiddenSize, v = config.vocabularySize
        let rows: [Int]
        switch selection {
        case .none: return []
        case .last: rows = layout.sequences.map { $0.rowStart + $0.tokenCount - 1 }
        case .all: rows = Array(0..<layout.tokenCount)
        }
        let normed = FloatBuffer(count: rows.count * d)      // [rows, D]
        let rowScales = FloatBuffer(rows.map { scale[$0] })  // [rows]
        let rowMeans = FloatBuffer(rows.map { mean[$0] })    // [rows]
        let gathered = FloatBuffer(count: rows.count * d)
        for (i, r) in rows.enumerated() { (gathered.pointer + i * d).update(from: x + r * d, count: d) }
        norm.apply(gathered.pointer, scale: rowScales.pointer, mean: rowMeans.pointer, gamma: weights.finalNorm,
                   beta: weights.finalNormBias, rows: rows.count, width: d, into: normed.pointer)
        var logits = [Float](repeating: 0, count: rows.count * v)
        logits.withUnsafeMutableBufferPointer { out in
            BLAS.matmulTransposedBSplittingColumns(normed.pointer, lda: d, weights.unembedding.pointer, ldb: d,
                                                   out.baseAddress!, ldc: v, m: rows.count, n: v, k: d)
            hooks?.run(.logits, shape: [rows.count, v], values: out.baseAddress!, layout: layout)
        }
        return logits
    }
}
