import Shared

// Legend: N rows, H heads in a row, E = head_dim.

/// Gemma 3's q_norm and k_norm: an RMSNorm over each head's E values, applied in place to the
/// query or key columns of the fused q/k/v rows before RoPE (docs/methods.md §24).
struct HeadNorm {
    let epsilon: Float

    /// rows: [N, stride], `heads` heads of E values from column 0; gamma: [E], the same for every head.
    func apply(_ rows: UnsafeMutablePointer<Float>, count: Int, stride: Int, heads: Int, headDim e: Int,
               gamma: FloatBuffer) {
        let g = gamma.pointer
        let parts = count < 16 ? 1 : min(count, ComputeThreads.count * 4)
        ComputeThreads.forEach(parts) { chunk in
            for t in (count * chunk / parts)..<(count * (chunk + 1) / parts) {
                for head in 0..<heads {
                    let x = rows + t * stride + head * e
                    let s = scale(x, headDim: e)
                    for i in 0..<e { x[i] = g[i] * (x[i] * s) }
                }
            }
        }
    }

    /// A head's scale 1 / sqrt(mean(x^2) + eps), the sum as Kernels.rmsScale's (docs/methods.md
    /// §22.7); the reverse pass recomputes it with this same function.
    func scale(_ x: UnsafePointer<Float>, headDim e: Int) -> Float {
        1 / (VectorMath.sumOfSquares(x, count: e) / Float(e) + epsilon).squareRoot()
    }
}
