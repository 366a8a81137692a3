import Shared

// Legend: B = prompts, V = variants of one prompt, L = layers, D = d_model, H = heads,
// E = head_dim.

/// A vector added to the residual stream entering `layer` (resid_pre) at a prompt's last token
/// (steering, docs/methods.md §16).
public struct ResidualAddition: Sendable {
    public let layer: Int
    /// [D]
    public let vector: [Float]

    public init(layer: Int, vector: [Float]) {
        self.layer = layer
        self.vector = vector
    }
}

/// Interventions that change only the last token of each prompt (patching or ablating z at
/// the answer position, adding a vector to its resid_pre): the prompt's other tokens, and so
/// their keys and values at every layer, are the same with and without them. So each prompt's
/// prefix runs once into a KV cache, the unchanged last token once (keeping its resid_pre at
/// every layer), and then all variants of all prompts run as packed batches of single-token
/// sequences that read their prompt's prefix cache (shared, read-only) and enter the stack at
/// the lowest layer they change, with the unchanged resid_pre of that layer (plus the added
/// vector, for steering). Exact: layers below the first change compute the same numbers
/// whether they run again or not.
public struct LastTokenInterventions {
    public let transformer: Transformer
    /// Most single-token sequences per forward pass (bounds the logits held at once).
    public var sequencesPerPass = 512

    public init(transformer: Transformer) {
        self.transformer = transformer
    }

    /// Runs `prompts` unchanged and with each of `variants[b]` (a variant is a list of patches;
    /// an empty one is the prompt unchanged). `consume(b, v, logits)` receives the last
    /// token's logits [vocabulary] of variant v of prompt b, with v = -1 for the unchanged run.
    public func run(prompts: [[Int32]], variants: [[[HeadPatch]]],
                    consume: (Int, Int, ArraySlice<Float>) throws -> Void) throws {
        precondition(prompts.count == variants.count)
        let config = transformer.config
        let base = try prepare(prompts, consume: consume)
        var order: [Variant] = []
        for (b, list) in variants.enumerated() {
            for (v, patches) in list.enumerated() {
                if let entry = patches.map(\.layer).min() {
                    order.append(Variant(prompt: b, variant: v, entry: entry, added: nil))
                } else {
                    try consume(b, v, base.unchanged.lastLogits(of: b))
                }
            }
        }
        try runVariants(order, base: base, prompts: prompts, consume: consume) { chunk in
            Hooks.patching(chunk.map { variants[$0.prompt][$0.variant] }, headCount: config.headCount,
                           headDim: config.headDim, allPositions: false)
        }
    }

    /// Runs `prompts` unchanged and with each of `additions[b]` (variant v adds its vector at
    /// its layer). `consume` as for patches.
    public func run(prompts: [[Int32]], additions: [[ResidualAddition]],
                    consume: (Int, Int, ArraySlice<Float>) throws -> Void) throws {
        precondition(prompts.count == additions.count)
        let base = try prepare(prompts, consume: consume)
        let order = additions.enumerated().flatMap { b, list in
            list.enumerated().map { v, addition in Variant(prompt: b, variant: v, entry: addition.layer, added: addition.vector) }
        }
        try runVariants(order, base: base, prompts: prompts, consume: consume) { _ in nil }
    }

    private struct Variant {
        let prompt: Int, variant: Int, entry: Int
        /// Added to resid_pre[entry]: [D]
        let added: [Float]?
    }

    private struct Base {
        let caches: [KVCache]
        /// resid_pre of every layer at each prompt's last token: [B, L, D]
        let residPre: [Float]
        let unchanged: ForwardOutput
    }

    /// The prefixes (all tokens but the last) into one KV cache per prompt, then the unchanged
    /// last tokens, keeping their resid_pre; consumes the unchanged logits as variant -1.
    private func prepare(_ prompts: [[Int32]], consume: (Int, Int, ArraySlice<Float>) throws -> Void) throws -> Base {
        let config = transformer.config
        let l = config.layerCount, d = config.hiddenSize
        let caches = prompts.map { KVCache(config: config, reservedTokens: $0.count) }
        let prefixes = prompts.indices.filter { prompts[$0].count > 1 }
        if !prefixes.isEmpty {
            _ = try transformer.forward(prefixes.map { SequenceInput(tokens: Array(prompts[$0].dropLast()), cache: caches[$0]) },
                                        logits: .none)
        }
        var residPre = [Float](repeating: 0, count: prompts.count * l * d)
        let capture = Hooks()
        for layer in 0..<l {
            capture.add(.residPre(layer)) { tensor in
                for (b, span) in tensor.layout.sequences.enumerated() {
                    let source = tensor.values.baseAddress! + span.rowStart * d
                    residPre.withUnsafeMutableBufferPointer { ($0.baseAddress! + (b * l + layer) * d).update(from: source, count: d) }
                }
            }
        }
        let lastTokens = prompts.enumerated().map { b, tokens in SequenceInput(tokens: [tokens.last!], prefix: caches[b]) }
        let unchanged = try transformer.forward(lastTokens, logits: .last, hooks: capture)
        for b in prompts.indices { try consume(b, -1, unchanged.lastLogits(of: b)) }
        return Base(caches: caches, residPre: residPre, unchanged: unchanged)
    }

    /// The variants, ordered by the layer they enter at, in passes of at most
    /// `sequencesPerPass` single-token sequences; `hooks(chunk)` gives a pass's hooks.
    private func runVariants(_ variants: [Variant], base: Base, prompts: [[Int32]],
                             consume: (Int, Int, ArraySlice<Float>) throws -> Void,
                             hooks: ([Variant]) -> Hooks?) throws {
        let config = transformer.config
        let l = config.layerCount, d = config.hiddenSize
        let order = variants.sorted { ($0.entry, $0.prompt, $0.variant) < ($1.entry, $1.prompt, $1.variant) }
        for start in stride(from: 0, to: order.count, by: max(1, sequencesPerPass)) {
            let chunk = Array(order[start..<min(order.count, start + max(1, sequencesPerPass))])
            let sequences = chunk.map { item in
                let offset = (item.prompt * l + item.entry) * d
                var residual = Array(base.residPre[offset..<(offset + d)])
                if let added = item.added { for i in 0..<d { residual[i] += added[i] } }
                return SequenceInput(tokens: [prompts[item.prompt].last!], prefix: base.caches[item.prompt],
                                     entry: StackEntry(layer: item.entry, residual: residual))
            }
            let output = try transformer.forward(sequences, logits: .last, hooks: hooks(chunk))
            for (i, item) in chunk.enumerated() { try consume(item.prompt, item.variant, output.lastLogits(of: i)) }
        }
    }
}
