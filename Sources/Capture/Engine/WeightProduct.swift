import CKernels
import Foundation
import Shared

/// One weight matrix W[n, k] of a layer and the product x · W^T the forward pass (and the
/// reverse pass's recomputed forward) runs with it. Where the CPU has AVX2 and the model's
/// packed copy fits (`WeightPacking`), W is also kept packed once for icl_packed_gemm, which
/// saves OpenBLAS's repacking of W on every call (docs/methods.md §22.4); otherwise the product
/// is OpenBLAS's. Either way the n output columns are split across the compute threads.
struct WeightProduct {
    let weight: FloatBuffer        // [n, k] row-major
    let n: Int
    let k: Int
    let packed: FloatBuffer?       // icl_pack_weights's panels of W

    init(_ weight: FloatBuffer, n: Int, k: Int, pack: Bool) {
        self.weight = weight
        self.n = n
        self.k = k
        if pack {
            let panels = FloatBuffer(count: icl_packed_weights_count(n, k))
            icl_pack_weights(weight.pointer, k, n, k, panels.pointer)
            packed = panels
        } else {
            packed = nil
        }
    }

    /// c[m, n] = a[m, k] · W^T. a: row stride lda; c: row stride ldc.
    func apply(_ a: UnsafePointer<Float>, lda: Int, _ c: UnsafeMutablePointer<Float>, ldc: Int, m: Int) {
        guard let packed else {
            BLAS.matmulTransposedBSplittingColumns(a, lda: lda, weight.pointer, ldb: k, c, ldc: ldc, m: m, n: n, k: k)
            return
        }
        BLAS.forEachColumnRange(n) { columns in
            if icl_packed_gemm(a, lda, packed.pointer, k, columns.lowerBound, columns.count, c, ldc, m, 1) != 0 {
                // The thread's scratch block could not be allocated: OpenBLAS needs none of ours.
                BLAS.matmulTransposedB(a, lda: lda, weight.pointer + columns.lowerBound * k, ldb: k,
                                       c + columns.lowerBound, ldc: ldc, m: m, n: columns.count, k: k)
            }
        }
    }
}

/// The weight products of one decoder layer.
struct LayerProducts {
    let qkv: WeightProduct      // [(H + 2K) E, D]
    let output: WeightProduct   // W_O: [D, H E]
    let gateUp: WeightProduct   // [2F, D] gated, [F, D] GELU
    let down: WeightProduct     // [D, F]

    init(_ layer: LayerWeights, config: ModelConfig, pack: Bool) {
        let d = config.hiddenSize, f = config.intermediateSize
        qkv = WeightProduct(layer.qkv, n: (config.headCount + 2 * config.kvHeadCount) * config.headDim, k: d, pack: pack)
        output = WeightProduct(layer.output, n: d, k: config.attentionWidth, pack: pack)
        gateUp = WeightProduct(layer.gateUp, n: (config.architecture.mlp.isGated ? 2 : 1) * f, k: d, pack: pack)
        down = WeightProduct(layer.down, n: d, k: f, pack: pack)
    }
}

/// Whether a Transformer keeps packed copies of its layer weights: a second copy of them (the
/// size of the fp32 layer weights), so it is made only where the CPU runs the packed kernel
/// and the copy takes at most a quarter of the machine's physical memory (fixed per machine,
/// so a capture's numbers do not depend on what else runs beside it).
public enum WeightPacking: Sendable {
    case automatic
    case off

    func packs(_ weights: ModelWeights) -> Bool {
        guard self == .automatic, icl_packed_gemm_available() != 0 else { return false }
        let bytes = weights.layers.reduce(0) { $0 + 4 * ($1.qkv.count + $1.output.count + $1.gateUp.count + $1.down.count) }
        return UInt64(bytes) <= ProcessInfo.processInfo.physicalMemory / 4
    }
}
