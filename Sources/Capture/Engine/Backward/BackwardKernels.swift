import Foundation
import CKernels
import Shared

// The reverse of Kernels' element-wise and row-wise operations. Legend: N rows, D or F
// columns; `dX` is dM/dX for the metric M. Each names the forward kernel it reverses.

enum BackwardKernels {
    /// Reverse of Kernels.rmsScale + applyRMSNorm (y = gamma * x * s, s = 1/sqrt(mean(x^2) + eps)),
    /// the scale included (not frozen):
    ///     dx += s * gamma * dy - s^3 / D * x * sum_j(gamma_j * dy_j * x_j)
    /// x, dy, dx: [N, D]; scale: [N] (the forward's s); gamma: [D]
    static func rmsNorm(_ x: UnsafePointer<Float>, scale: UnsafePointer<Float>, gamma: UnsafePointer<Float>,
                        dy: UnsafePointer<Float>, rows: Int, width: Int, addingInto dx: UnsafeMutablePointer<Float>) {
        forEachRowRange(rows) { range in
            for r in range {
                let xr = x + r * width, dyr = dy + r * width, dxr = dx + r * width, s = scale[r]
                var dot: Float = 0
                for i in 0..<width { dot += gamma[i] * dyr[i] * xr[i] }
                let coefficient = s * s * s * dot / Float(width)
                for i in 0..<width { dxr[i] += s * gamma[i] * dyr[i] - coefficient * xr[i] }
            }
        }
    }

    /// Reverse of Kernels.layerNormStatistics + applyLayerNorm (y = gamma * xhat + beta,
    /// xhat = (x - m) * s, s = 1/sqrt(var(x) + eps)), mean and scale included (not frozen):
    ///     dx += s * (gamma * dy - mean_j(gamma_j dy_j) - xhat * mean_j(gamma_j dy_j xhat_j))
    /// x, dy, dx: [N, D]; mean, scale: [N] (the forward's m and s); gamma: [D]
    static func layerNorm(_ x: UnsafePointer<Float>, mean: UnsafePointer<Float>, scale: UnsafePointer<Float>,
                          gamma: UnsafePointer<Float>, dy: UnsafePointer<Float>, rows: Int, width: Int,
                          addingInto dx: UnsafeMutablePointer<Float>) {
        forEachRowRange(rows) { range in
            for r in range {
                let xr = x + r * width, dyr = dy + r * width, dxr = dx + r * width, m = mean[r], s = scale[r]
                var sum: Float = 0, dot: Float = 0
                for i in 0..<width {
                    let g = gamma[i] * dyr[i]
                    sum += g
                    dot += g * ((xr[i] - m) * s)
                }
                let meanG = sum / Float(width), meanGX = dot / Float(width)
                for i in 0..<width {
                    dxr[i] += s * (gamma[i] * dyr[i] - meanG - (xr[i] - m) * s * meanGX)
                }
            }
        }
    }

    /// Reverse of Kernels.geluTanh (y = 0.5 x (1 + t), t = tanh(c (x + 0.044715 x^3))):
    ///     dx = dy * (0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 * 0.044715 x^2))
    /// with 0.5 (1 + t) = 1 / (1 + exp(-2 c (x + 0.044715 x^3))) as the forward computes it (§22.3).
    /// x: [N, F] (the forward's input) ; dy: [N, F] -> dx: [N, F]
    static func geluTanh(_ x: UnsafePointer<Float>, dy: UnsafePointer<Float>, rows: Int, width: Int,
                         into dx: UnsafeMutablePointer<Float>) {
        forEachRowRange(rows) { range in
            let offset = range.lowerBound * width
            icl_gelu_tanh_backward(x + offset, dy + offset, dx + offset, range.count * width)
        }
    }

    /// Reverse of Kernels.geluErf (y = x Phi(x), Phi the standard normal CDF):
    ///     dx = dy * (Phi(x) + x phi(x)),  Phi(x) = (1 + erf(x / sqrt 2)) / 2,  phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
    /// x: [N, F] (the forward's input); dy: [N, F] -> dx: [N, F]
    static func geluErf(_ x: UnsafePointer<Float>, dy: UnsafePointer<Float>, rows: Int, width: Int,
                        into dx: UnsafeMutablePointer<Float>) {
        let inverseSqrt2Pi = Float(1 / (2 * Double.pi).squareRoot())
        forEachRowRange(rows) { range in
            for r in range {
                let xr = x + r * width, dyr = dy + r * width, dxr = dx + r * width
                for i in 0..<width {
                    let v = xr[i]
                    let cdf = 0.5 * (1 + erff(v * Kernels.inverseSquareRootOfTwo))
                    dxr[i] = dyr[i] * (cdf + v * expf(-0.5 * v * v) * inverseSqrt2Pi)
                }
            }
        }
    }

    /// Reverse of Kernels.swiGLU (act = silu(gate) * up, silu(x) = x * sigmoid(x)):
    ///     dgate = dact * up * sigmoid(gate) * (1 + gate * (1 - sigmoid(gate))),  dup = dact * silu(gate)
    /// gateUp: [N, 2F] (the forward's input), dAct: [N, F] -> dGateUp: [N, 2F]
    static func swiGLU(_ gateUp: UnsafePointer<Float>, dAct: UnsafePointer<Float>, rows: Int, width: Int,
                       into dGateUp: UnsafeMutablePointer<Float>) {
        forEachRowRange(rows) { range in
            let sigmoids = UnsafeMutablePointer<Float>.allocate(capacity: width)   // [F]
            defer { sigmoids.deallocate() }
            for r in range {
                let g = gateUp + r * 2 * width, u = g + width, da = dAct + r * width
                let dg = dGateUp + r * 2 * width, du = dg + width
                icl_sigmoid(g, sigmoids, width)
                for i in 0..<width {
                    let x = g[i], sigmoid = sigmoids[i]
                    du[i] = da[i] * (x * sigmoid)
                    dg[i] = da[i] * u[i] * sigmoid * (1 + x * (1 - sigmoid))
                }
            }
        }
    }

    /// Reverse of the attention softmax (icl_softmax_row) on the entries `visible` of a row:
    ///     dscore_j = p_j * (dp_j - sum_k p_k dp_k),
    /// written over dp (in place); the masked entries (outside `visible`) get 0.
    /// p, dp: [width]
    static func softmaxRow(_ p: UnsafePointer<Float>, dp: UnsafeMutablePointer<Float>, visible: Range<Int>,
                           width: Int) {
        var dot: Float = 0
        for j in visible { dot += p[j] * dp[j] }
        for j in visible { dp[j] = p[j] * (dp[j] - dot) }
        dp.update(repeating: 0, count: visible.lowerBound)
        (dp + visible.upperBound).update(repeating: 0, count: width - visible.upperBound)
    }

    /// Rows split as Kernels splits them: at most 4 chunks per thread, one chunk when small.
    private static func forEachRowRange(_ rows: Int, _ body: (Range<Int>) -> Void) {
        let parts = rows < 16 ? 1 : min(rows, ComputeThreads.count * 4)
        ComputeThreads.forEach(parts) { chunk in
            body((rows * chunk / parts)..<(rows * (chunk + 1) / parts))
        }
    }
}
