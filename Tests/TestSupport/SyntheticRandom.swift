import Shared

/// The independent random streams of a synthetic dump: each value is drawn from
/// `SplitMix64.derive(seed, stream, ...)` with a path that names it (a token, a set, a prompt),
/// so it does not depend on the shard, the chunking or the thread that computes it.
enum SyntheticStream: UInt64 {
    case weights = 1, unembedding, plantedHeads, labels, layout, demonstrationOutputs, gold, activations, attention, probeTokens, probeAttention
}

extension SplitMix64 {
    /// The generator for one purpose of a synthetic dump.
    static func synthetic(_ seed: UInt64, _ stream: SyntheticStream, _ path: UInt64...) -> SplitMix64 {
        SplitMix64(seed: path.reduce(derive(seed, stream.rawValue)) { derive($0, $1) })
    }

    /// A roughly standard normal value from one 64-bit draw: the sum of its four 16-bit
    /// quarters (Irwin-Hall with n = 4, variance 1/3) centred and scaled to unit variance.
    /// Its tails stop at ±2√3, which fake activations do not miss; one draw per value is
    /// what keeps a 10 GB dump quick to make.
    mutating func nextNormalish() -> Float {
        let r = next()
        let sum = (r & 0xFFFF) + (r >> 16 & 0xFFFF) + (r >> 32 & 0xFFFF) + (r >> 48)
        return (Float(sum) * (1 / 65536) - 2) * 1.732_050_8
    }

    /// Fills `values` with `scale` * nextNormalish().
    mutating func fillNormalish(_ values: UnsafeMutableBufferPointer<Float>, scale: Float) {
        for i in values.indices { values[i] = scale * nextNormalish() }
    }
}
