import Foundation
import Shared

// Legend: S = sequences in the chunk, L = layers, H = heads, T = b + 2R tokens.

/// The induction probe's sequences and the fake model's attention patterns on them.
struct SyntheticProbe {
    let spec: SyntheticProbeSpec
    let model: SyntheticModel
    let seed: UInt64

    /// Score added to the planted heads' target key: e^6 outweighs the ~T other keys.
    static let targetBonus: Float = 6

    /// BOS (when the probe has it) + R distinct ordinary tokens + the same R again.
    func tokens(ofSequence index: Int) -> [Int32] {
        var rng = SplitMix64.synthetic(seed, .probeTokens, UInt64(index))
        let half = SyntheticVocabulary.distinctOrdinary(spec.repeatLength, &rng, vocabulary: model.spec.vocabulary)
        return (spec.bos ? [SyntheticVocabulary.bos] : []) + half + half
    }

    /// Lower-triangular softmax rows: noise, a sink on BOS, and the planted heads' targets
    /// (induction: key q - R + 1 on the second copy; previous token: key q - 1).
    func patterns(ofSequences indices: [Int]) -> [Float] {   // [S, L, H, T, T]
        let m = model.spec, heads = m.layers * m.heads, t = spec.tokenCount
        let b = spec.bos ? 1 : 0, r = spec.repeatLength
        var roles = [UInt8](repeating: 0, count: heads)   // 1 induction, 2 previous token
        for head in model.planted.induction { roles[head.layer * m.heads + head.head] = 1 }
        for head in model.planted.previousToken { roles[head.layer * m.heads + head.head] = 2 }
        var patterns = [Float](repeating: 0, count: indices.count * heads * t * t)
        patterns.withUnsafeMutableBufferPointer { patterns in
            ComputeThreads.forEach(indices.count * heads) { job in
                let sequence = indices[job / heads], lh = job % heads
                var rng = SplitMix64.synthetic(seed, .probeAttention, UInt64(sequence), UInt64(lh))
                for q in 0..<t {
                    let start = (job * t + q) * t
                    let row = UnsafeMutableBufferPointer(rebasing: patterns[start..<(start + q + 1)])
                    var largest = -Float.infinity
                    for k in 0...q {
                        var score = rng.nextNormalish()
                        if b == 1 && k == 0 { score += 2 }
                        if roles[lh] == 1 && q >= b + r && k == q - r + 1 { score += Self.targetBonus }
                        if roles[lh] == 2 && q >= 1 && k == q - 1 { score += Self.targetBonus }
                        row[k] = score
                        largest = max(largest, score)
                    }
                    var total: Float = 0
                    for k in 0...q {
                        row[k] = exp(row[k] - largest)
                        total += row[k]
                    }
                    for k in 0...q { row[k] /= total }
                }
            }
        }
        return patterns
    }
}
