import Shared

// Legend: B = prompts, V = variants of one prompt, L = layers, D = d_model, H = heads,
// E = head_dim.

/// Interventions that change only the last token of each prompt (patching or ablating z at
/// the answer position): the prompt's other tokens, and so their keys and values at every
/// layer, are the same with and without them. So each prompt's prefix runs once into a KV
/// cache, the unchanged last token once (keeping its resid_pre at every layer), and then all
/// variants of all prompts run as one packed batch of single-token sequences that read their
/// prompt's prefix cache (shared, read-only) and enter the stack at the lowest layer they
/// patch, with the unchanged resid_pre of that layer. Exact: layers below the first patch
/// compute the same numbers whether they run again or not.
public struct LastTokenInterventions {
    public let transformer: Transformer

    public init(transformer: Transformer) {
        self.transformer = transformer
    }

    /// Runs `prompts` unchanged and with each of `variants[b]` (a variant is a list of patches;
    /// an empty one is the prompt unchanged). `consume(b, v, logits)` receives the last
    /// token's logits [vocabulary] of variant v of prompt b, with v = -1 for the unchanged run.
    public func run(prompts: [[Int32]], variants: [[[HeadPatch]]],
                    consume: (Int, Int, ArraySlice<Float>) -> Void) throws {
        precondition(prompts.count == variants.count)
        let config = transformer.config
        let l = config.layerCount, d = config.hiddenSize

        // The prefixes (all tokens but the last) into one KV cache per prompt.
        let caches = prompts.map { KVCache(config: config, reservedTokens: $0.count) }
        let prefixes = prompts.indices.filter { prompts[$0].count > 1 }
        if !prefixes.isEmpty {
            _ = try transformer.forward(prefixes.map { SequenceInput(tokens: Array(prompts[$0].dropLast()), cache: caches[$0]) },
                                        logits: .none)
        }

        // The unchanged last tokens, keeping resid_pre of every layer: [B, L, D]
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
        for b in prompts.indices { consume(b, -1, unchanged.lastLogits(of: b)) }

        // Every variant that patches something, ordered by the layer it enters at.
        var order: [(prompt: Int, variant: Int, entry: Int)] = []
        for (b, list) in variants.enumerated() {
            for (v, patches) in list.enumerated() {
                if let entry = patches.map(\.layer).min() { order.append((b, v, entry)) } else { consume(b, v, unchanged.lastLogits(of: b)) }
            }
        }
        guard !order.isEmpty else { return }
        order.sort { ($0.entry, $0.prompt, $0.variant) < ($1.entry, $1.prompt, $1.variant) }
        let sequences = order.map { item in
            SequenceInput(tokens: [prompts[item.prompt].last!], prefix: caches[item.prompt],
                          entry: StackEntry(layer: item.entry,
                                            residual: Array(residPre[((item.prompt * l + item.entry) * d)..<((item.prompt * l + item.entry + 1) * d)])))
        }
        let hooks = Hooks.patching(order.map { variants[$0.prompt][$0.variant] }, headCount: config.headCount,
                                   headDim: config.headDim, allPositions: false)
        let output = try transformer.forward(sequences, logits: .last, hooks: hooks)
        for (i, item) in order.enumerated() { consume(item.prompt, item.variant, output.lastLogits(of: i)) }
    }
}
