/// Greedy decoding with a KV cache per prompt: one prefill of all prompts as a packed batch,
/// then one token per unfinished prompt per step.
extension Transformer {
    /// New tokens of each prompt (the prompt itself not repeated), at most `maxNewTokens`,
    /// ending early after a token in `stopTokens` (which is included, as transformers does).
    public func generateGreedy(prompts: [[Int32]], maxNewTokens: Int, stopTokens: Set<Int32> = [],
                               hooks: Hooks? = nil) throws -> [[Int32]] {
        let caches = prompts.map { KVCache(config: config, reservedTokens: $0.count + maxNewTokens) }
        var generated = [[Int32]](repeating: [], count: prompts.count)
        guard maxNewTokens > 0 else { return generated }

        var active = Array(prompts.indices)
        var inputs = zip(prompts, caches).map { SequenceInput(tokens: $0, cache: $1) }
        while !active.isEmpty {
            let output = try forward(inputs, logits: .last, hooks: hooks)
            var stillActive: [Int] = []
            var nextInputs: [SequenceInput] = []
            for (b, prompt) in active.enumerated() {
                let token = Self.argmax(output.lastLogits(of: b))
                generated[prompt].append(token)
                let done = stopTokens.contains(token) || generated[prompt].count == maxNewTokens
                    || caches[prompt].length + 1 > config.contextLength
                if !done {
                    stillActive.append(prompt)
                    nextInputs.append(SequenceInput(tokens: [token], cache: caches[prompt]))
                }
            }
            active = stillActive
            inputs = nextInputs
        }
        return generated
    }

    /// Index of the largest logit; the first one on ties, as torch.argmax.
    static func argmax(_ logits: ArraySlice<Float>) -> Int32 {
        var best = logits.startIndex
        for i in logits.indices where logits[i] > logits[best] { best = i }
        return Int32(best - logits.startIndex)
    }
}
