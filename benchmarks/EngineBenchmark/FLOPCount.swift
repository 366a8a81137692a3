import Capture

/// Floating-point operations of one prefill (multiply and add counted separately).
enum FLOPCount {
    /// Weight GEMMs for every token, causal attention (q·k and p·v over the visible keys), and
    /// the unembedding of the last position: a prefill's nominal work, the same for any engine
    /// (ours skips part of the last layer, docs/methods.md §22.6).
    static func forward(config c: ModelConfig, tokens t: Int) -> Double {
        let d = Double(c.hiddenSize), e = Double(c.headDim), f = Double(c.intermediateSize)
        let qkv = Double((c.headCount + 2 * c.kvHeadCount) * c.headDim)
        let perToken = 2 * d * qkv + 2 * Double(c.attentionWidth) * d + 2 * d * 2 * f + 2 * f * d
        let visiblePairs = Double(t) * Double(t + 1) / 2
        let attention = 2 * 2 * e * visiblePairs * Double(c.headCount)
        return Double(c.layerCount) * (perToken * Double(t) + attention) + 2 * d * Double(c.vocabularySize)
    }

    static func parameterCount(_ c: ModelConfig) -> Int {
        let d = c.hiddenSize
        let qkv = (c.headCount + 2 * c.kvHeadCount) * c.headDim
        let layer = 2 * d + qkv * d + d * c.attentionWidth + 3 * c.intermediateSize * d
        return c.vocabularySize * d * (c.tiedEmbeddings ? 1 : 2) + c.layerCount * layer + d
    }
}
