import Shared

// Legend: N rows, D = d_model.

/// The model's norm (RMSNorm or LayerNorm) with everything the hooks and the reverse pass read:
/// the per-row scale s and, for LayerNorm, the row mean m (docs/methods.md §23).
struct Norm {
    let kind: ModelConfig.Normalization
    let epsilon: Float

    /// scale, mean: [N] (mean is left untouched for RMSNorm) from x: [N, D].
    func statistics(_ x: UnsafePointer<Float>, rows: Int, width: Int,
                    scale: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>) {
        switch kind {
        case .rms: Kernels.rmsScale(x, rows: rows, width: width, epsilon: epsilon, into: scale)
        case .layer: Kernels.layerNormStatistics(x, rows: rows, width: width, epsilon: epsilon, mean: mean, scale: scale)
        }
    }

    /// out = norm(x) with the statistics of `statistics`. x, out: [N, D]; gamma, beta: [D]
    /// (beta only for LayerNorm).
    func apply(_ x: UnsafePointer<Float>, scale: UnsafePointer<Float>, mean: UnsafePointer<Float>,
               gamma: FloatBuffer, beta: FloatBuffer?, rows: Int, width: Int, into out: UnsafeMutablePointer<Float>) {
        switch kind {
        case .rms:
            Kernels.applyRMSNorm(x, scale: scale, gamma: gamma.pointer, rows: rows, width: width, into: out)
        case .layer:
            Kernels.applyLayerNorm(x, mean: mean, scale: scale, gamma: gamma.pointer, beta: beta!.pointer,
                                   rows: rows, width: width, into: out)
        }
    }

    /// statistics, then apply.
    func run(_ x: UnsafePointer<Float>, gamma: FloatBuffer, beta: FloatBuffer?, rows: Int, width: Int,
             scale: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        statistics(x, rows: rows, width: width, scale: scale, mean: mean)
        apply(x, scale: scale, mean: mean, gamma: gamma, beta: beta, rows: rows, width: width, into: out)
    }

    /// Reverse of `run` (the statistics differentiated too): dx += dnorm(x)/dx^T · dy.
    /// x, dy, dx: [N, D]; scale, mean: [N] from `statistics`
    func backward(_ x: UnsafePointer<Float>, scale: UnsafePointer<Float>, mean: UnsafePointer<Float>,
                  gamma: FloatBuffer, dy: UnsafePointer<Float>, rows: Int, width: Int,
                  addingInto dx: UnsafeMutablePointer<Float>) {
        switch kind {
        case .rms:
            BackwardKernels.rmsNorm(x, scale: scale, gamma: gamma.pointer, dy: dy, rows: rows, width: width, addingInto: dx)
        case .layer:
            BackwardKernels.layerNorm(x, mean: mean, scale: scale, gamma: gamma.pointer, dy: dy, rows: rows,
                                      width: width, addingInto: dx)
        }
    }
}
