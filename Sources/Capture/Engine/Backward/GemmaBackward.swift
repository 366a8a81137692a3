import CKernels
import Foundation
import Shared

// The reverse of Gemma 3's parts of a block (docs/methods.md §24.4). Legend: N rows, D = d_model,
// F = d_ff, H heads in a row, E = head_dim.

extension BackwardKernels {
    /// Reverse of Kernels.geGLU (act = gelu_tanh(gate) * up):
    ///     dgate = dact * up * gelu_tanh'(gate),  dup = dact * gelu_tanh(gate),
    ///     gelu_tanh'(x) = 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 * 0.044715 x^2), t = tanh(c (x + 0.044715 x^3)),
    /// with 0.5 (1 + t) = s = 1 / (1 + exp(-2 c (x + 0.044715 x^3))) as the forward computes it (§22.3).
    /// gateUp: [N, 2F] (the forward's input), dAct: [N, F] -> dGateUp: [N, 2F]
    static func geGLU(_ gateUp: UnsafePointer<Float>, dAct: UnsafePointer<Float>, rows: Int, width: Int,
                      into dGateUp: UnsafeMutablePointer<Float>) {
        let parts = rows < 16 ? 1 : min(rows, ComputeThreads.count * 4)
        ComputeThreads.forEach(parts) { chunk in
            for r in (rows * chunk / parts)..<(rows * (chunk + 1) / parts) {
                let g = gateUp + r * 2 * width, dg = dGateUp + r * 2 * width
                icl_gelu_tanh_mul_backward(g, g + width, dAct + r * width, dg, dg + width, width)
            }
        }
    }
}

extension HeadNorm {
    /// Reverse of `apply` (the per-head scale differentiated too): dx = dRMSNorm(x)/dx^T · dy for
    /// every head, written over dy. x: the rows before `apply`, [N, stride]; dy: [N, stride], both
    /// with `heads` heads of E values from column 0; gamma: [E]
    func backward(_ x: UnsafePointer<Float>, dy: UnsafeMutablePointer<Float>, count: Int, stride: Int, heads: Int,
                  headDim e: Int, gamma: FloatBuffer) {
        let g = gamma.pointer
        let parts = count < 16 ? 1 : min(count, ComputeThreads.count * 4)
        ComputeThreads.forEach(parts) { chunk in
            for t in (count * chunk / parts)..<(count * (chunk + 1) / parts) {
                for head in 0..<heads {
                    let xh = x + t * stride + head * e, d = dy + t * stride + head * e
                    var dot: Float = 0
                    for i in 0..<e { dot += g[i] * d[i] * xh[i] }
                    let s = scale(xh, headDim: e)
                    let coefficient = s * s * s * dot / Float(e)
                    for i in 0..<e { d[i] = s * g[i] * d[i] - coefficient * xh[i] }
                }
            }
        }
    }
}
