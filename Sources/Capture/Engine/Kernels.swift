import Foundation
import CKernels
import Shared

// Element-wise and row-wise kernels of the forward pass. Legend: N rows, D or F columns.
// Each mirrors the operation order of transformers' fp32 modules so results agree to
// rounding (no fused multiply-add is formed: Swift does not contract float expressions); exp
// is CKernels' vectorised one, within 2 ulp (docs/methods.md §22), as in the attention softmax.

enum Kernels {
    /// Per-row RMSNorm scale s = 1 / sqrt(mean(x^2) + eps), the sum in VectorMath's eight lanes
    /// (docs/methods.md §22.7). x: [N, D] -> scale: [N]
    static func rmsScale(_ x: UnsafePointer<Float>, rows: Int, width: Int, epsilon: Float,
                         into scale: UnsafeMutablePointer<Float>) {
        ComputeThreads.forEach(chunks(rows)) { chunk in
            for r in range(chunk, of: rows) {
                let sum = VectorMath.sumOfSquares(x + r * width, count: width)
                scale[r] = 1 / (sum / Float(width) + epsilon).squareRoot()
            }
        }
    }

    /// out = gamma * (x * s) row by row. x, out: [N, D]; scale: [N]; gamma: [D]
    static func applyRMSNorm(_ x: UnsafePointer<Float>, scale: UnsafePointer<Float>,
                             gamma: UnsafePointer<Float>, rows: Int, width: Int,
                             into out: UnsafeMutablePointer<Float>) {
        ComputeThreads.forEach(chunks(rows)) { chunk in
            for r in range(chunk, of: rows) {
                let row = x + r * width, o = out + r * width, s = scale[r]
                for i in 0..<width { o[i] = gamma[i] * (row[i] * s) }
            }
        }
    }

    /// Per-row LayerNorm statistics: mean m and scale s = 1 / sqrt(mean((x - m)^2) + eps) (the
    /// biased variance, as torch's LayerNorm), the sums as in rmsScale. x: [N, D] -> mean, scale: [N]
    static func layerNormStatistics(_ x: UnsafePointer<Float>, rows: Int, width: Int, epsilon: Float,
                                    mean: UnsafeMutablePointer<Float>, scale: UnsafeMutablePointer<Float>) {
        ComputeThreads.forEach(chunks(rows)) { chunk in
            for r in range(chunk, of: rows) {
                let row = x + r * width
                let m = VectorMath.sum(row, count: width) / Float(width)
                let squares = VectorMath.centredSumOfSquares(row, mean: m, count: width)
                mean[r] = m
                scale[r] = 1 / (squares / Float(width) + epsilon).squareRoot()
            }
        }
    }

    /// out = gamma * ((x - m) * s) + beta row by row. x, out: [N, D]; mean, scale: [N]; gamma, beta: [D]
    static func applyLayerNorm(_ x: UnsafePointer<Float>, mean: UnsafePointer<Float>, scale: UnsafePointer<Float>,
                               gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, rows: Int, width: Int,
                               into out: UnsafeMutablePointer<Float>) {
        ComputeThreads.forEach(chunks(rows)) { chunk in
            for r in range(chunk, of: rows) {
                let row = x + r * width, o = out + r * width, m = mean[r], s = scale[r]
                for i in 0..<width { o[i] = gamma[i] * ((row[i] - m) * s) + beta[i] }
            }
        }
    }

    /// GPT-2's gelu_new, the tanh approximation, in place:
    /// x <- 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3))), vectorised as
    /// x / (1 + exp(-2 sqrt(2/pi) (x + 0.044715 x^3))) (docs/methods.md §22.3). x: [N, F]
    static func geluTanh(_ x: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        ComputeThreads.forEach(chunks(rows)) { chunk in
            let range = range(chunk, of: rows)
            icl_gelu_tanh(x + range.lowerBound * width, x + range.lowerBound * width, range.count * width)
        }
    }

    /// The exact GELU (torch's gelu without approximation, GPT-NeoX's "gelu"), in place:
    /// x <- x * 0.5 * (1 + erf(x * sqrt(1/2))). x: [N, F]
    static func geluErf(_ x: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        ComputeThreads.forEach(chunks(rows)) { chunk in
            for r in range(chunk, of: rows) {
                let row = x + r * width
                for i in 0..<width {
                    let v = row[i]
                    row[i] = v * 0.5 * (1 + erff(v * inverseSquareRootOfTwo))
                }
            }
        }
    }

    /// sqrt(1/2) in fp32, torch's M_SQRT1_2 as its CPU gelu kernel uses it.
    static let inverseSquareRootOfTwo = Float(0.5.squareRoot())

    /// act = silu(gate) * up, silu(x) = x / (1 + exp(-x)) with the vectorised exp of CKernels.
    /// gateUp: [N, 2F] (gate columns, then up) -> act: [N, F]
    static func swiGLU(_ gateUp: UnsafePointer<Float>, rows: Int, width: Int,
                       into act: UnsafeMutablePointer<Float>) {
        ComputeThreads.forEach(chunks(rows)) { chunk in
            for r in range(chunk, of: rows) {
                let g = gateUp + r * 2 * width
                icl_silu_mul(g, g + width, act + r * width, width)
            }
        }
    }

    /// y += x, both [count]
    static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] += x[i] }
    }

    /// Adds `bias` ([width]) to every row of rows: [N, width].
    static func addBias(_ bias: UnsafePointer<Float>, to rows: UnsafeMutablePointer<Float>,
                        count: Int, width: Int) {
        for r in 0..<count {
            let row = rows + r * width
            for i in 0..<width { row[i] += bias[i] }
        }
    }

    /// Rows are split into at most 4 chunks per thread, so small calls stay on one thread.
    private static func chunks(_ rows: Int) -> Int {
        rows < 16 ? 1 : min(rows, ComputeThreads.count * 4)
    }

    private static func range(_ chunk: Int, of rows: Int) -> Range<Int> {
        let parts = chunks(rows)
        return (rows * chunk / parts)..<(rows * (chunk + 1) / parts)
    }
}
