import CKernels
import Foundation
import Shared

// Legend: N rows, F = d_ff.

extension Kernels {
    /// Gemma's gated MLP activation: act = gelu_tanh(gate) * up, with the vectorised tanh GELU of
    /// geluTanh (torch's gelu(approximate="tanh"), transformers' gelu_pytorch_tanh; docs/methods.md §24).
    /// gateUp: [N, 2F] (gate columns, then up) -> act: [N, F]
    static func geGLU(_ gateUp: UnsafePointer<Float>, rows: Int, width: Int, into act: UnsafeMutablePointer<Float>) {
        let parts = rows < 16 ? 1 : min(rows, ComputeThreads.count * 4)
        ComputeThreads.forEach(parts) { chunk in
            for r in (rows * chunk / parts)..<(rows * (chunk + 1) / parts) {
                let gate = gateUp + r * 2 * width
                icl_gelu_tanh_mul(gate, gate + width, act + r * width, width)
            }
        }
    }
}
