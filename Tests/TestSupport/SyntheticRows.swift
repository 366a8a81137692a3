// Legend: P = prompts in the chunk, C = captured positions, L = layers, H = heads, E = d_head,
// D = d_model, Y = the set's labels, T = the set's longest prompt in the file, K = top-k.

/// The rows of a chunk of prompts, as the dump stores them: one buffer per dataset, which the
/// prompts' threads fill in place (each prompt its own rows).
final class SyntheticRows {
    let z: UnsafeMutableBufferPointer<Float>                 // [P, C, L, H, E]
    let resid: UnsafeMutableBufferPointer<Float>             // [P, C, L + 1, D]
    let finalNormScale: UnsafeMutableBufferPointer<Float>    // [P, C]
    let outputNormScale: UnsafeMutableBufferPointer<Float>   // [P, C, L] (models with an attention output norm)
    let headLabelLogits: UnsafeMutableBufferPointer<Float>   // [P, C, L, H, Y]
    let residLabelLogits: UnsafeMutableBufferPointer<Float>  // [P, C, L + 1, Y]
    let labelLogits: UnsafeMutableBufferPointer<Float>       // [P, Y]
    let goldLogprob: UnsafeMutableBufferPointer<Float>       // [P]
    let argmax: UnsafeMutableBufferPointer<Int32>            // [P]
    let topIDs: UnsafeMutableBufferPointer<Int32>            // [P, K]
    let topLogits: UnsafeMutableBufferPointer<Float>         // [P, K]
    let attention: UnsafeMutableBufferPointer<Float>         // [P, L, H, T]
    let prompts: Int

    init(prompts p: Int, positions c: Int, model m: SyntheticModelSpec, labels y: Int, topK k: Int, tokenSlots t: Int) {
        func make<T: Numeric>(_ count: Int) -> UnsafeMutableBufferPointer<T> {
            let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: count)
            buffer.initialize(repeating: 0)
            return buffer
        }
        let l = m.layers, h = m.heads
        prompts = p
        z = make(p * c * l * h * m.dHead)
        resid = make(p * c * (l + 1) * m.dModel)
        finalNormScale = make(p * c)
        outputNormScale = make(m.attentionOutputNorm ? p * c * l : 0)
        headLabelLogits = make(p * c * l * h * y)
        residLabelLogits = make(p * c * (l + 1) * y)
        labelLogits = make(p * y)
        goldLogprob = make(p)
        argmax = make(p)
        topIDs = make(p * k)
        topLogits = make(p * k)
        attention = make(p * l * h * t)
    }

    deinit {
        for buffer in [z, resid, finalNormScale, outputNormScale, headLabelLogits, residLabelLogits, labelLogits, goldLogprob, topLogits, attention] {
            buffer.deallocate()
        }
        argmax.deallocate()
        topIDs.deallocate()
    }

    /// Prompt i's part of a [P, ...] buffer.
    static func rows<T>(of buffer: UnsafeMutableBufferPointer<T>, prompt i: Int, of prompts: Int) -> UnsafeMutableBufferPointer<T> {
        let width = buffer.count / prompts
        return UnsafeMutableBufferPointer(rebasing: buffer[(i * width)..<((i + 1) * width)])
    }

    /// Replaces prompt i's rows by NaN (floats) and -1 (token ids): a not-done row holds no
    /// data, and a reader that forgets the done flag should notice.
    func blank(prompt i: Int) {
        for buffer in [z, resid, finalNormScale, outputNormScale, headLabelLogits, residLabelLogits, labelLogits, goldLogprob, topLogits, attention] {
            Self.rows(of: buffer, prompt: i, of: prompts).update(repeating: .nan)
        }
        Self.rows(of: argmax, prompt: i, of: prompts).update(repeating: -1)
        Self.rows(of: topIDs, prompt: i, of: prompts).update(repeating: -1)
    }
}
