import Foundation
import Shared

// Legend: N = packed tokens, T = one sequence's tokens (= S, its keys: no KV cache here),
// H = query heads, K = KV heads, E = head_dim, W = (H + 2K) * E = one row of fused q/k/v.

/// The reverse of CausalAttention.run for prompts without a KV cache. The forward of a block of
/// queries (scores = scale q·k^T, causal softmax P, z = P·v) is recomputed beside its backward:
///     dP = dz·v^T,  dscores = softmax'(dP),  dq = scale dscores·k,
///     dk += scale dscores^T·q,  dv += P^T·dz
/// Query heads that share a KV head add into the same dk/dv rows, so one task owns one
/// (sequence, KV head) pair and every query head of its group: no two tasks write the same rows.
struct AttentionBackward {
    let config: ModelConfig
    /// Queries per GEMM, as in the forward pass.
    let queryBlock = 128

    /// qkv: [N, W] after RoPE; dz: [N, H * E] -> dqkv: [N, W] (dq, dk, dv, all overwritten).
    /// `patternGradients[b]`, when given, receives dM/dP of sequence b: [H, T, T], every
    /// entry, the masked ones included (dz_t · v_s: what a change of that probability would do).
    func run(qkv: UnsafePointer<Float>, dz: UnsafePointer<Float>, layout: BatchLayout,
             dqkv: UnsafeMutablePointer<Float>, patternGradients: [UnsafeMutablePointer<Float>]?) {
        let heads = config.headCount, groups = config.kvHeadCount, groupSize = config.groupSize
        let e = config.headDim, w = (heads + 2 * groups) * e, zWidth = heads * e
        let scale = 1 / Float(e).squareRoot()
        let tasks = layout.sequences.indices.flatMap { b in (0..<groups).map { (sequence: b, group: $0) } }

        ComputeThreads.forEachCallingBLAS(tasks.count) { index in
            let (b, g) = tasks[index]
            let span = layout.sequences[b], t = span.tokenCount
            let rows = qkv + span.rowStart * w, dRows = dqkv + span.rowStart * w
            let keys = rows + (heads + g) * e, values = rows + (heads + groups + g) * e
            let dKeys = dRows + (heads + g) * e, dValues = dRows + (heads + groups + g) * e
            for r in 0..<t {
                (dKeys + r * w).update(repeating: 0, count: e)
                (dValues + r * w).update(repeating: 0, count: e)
            }
            for h in (g * groupSize)..<((g + 1) * groupSize) {
                let queries = rows + h * e, dQueries = dRows + h * e
                let dzHead = dz + span.rowStart * zWidth + h * e
                let pattern = patternGradients.map { $0[b] + h * t * t }
                for first in stride(from: 0, to: t, by: queryBlock) {
                    let count = min(queryBlock, t - first), visible = first + count
                    // dP is computed over every key when the pattern's gradient is asked for.
                    let width = pattern == nil ? visible : t
                    let probabilities = UnsafeMutablePointer<Float>.allocate(capacity: count * visible)
                    let dScores = UnsafeMutablePointer<Float>.allocate(capacity: count * width)
                    defer {
                        probabilities.deallocate()
                        dScores.deallocate()
                    }
                    // P[count, visible] = softmax(scale * q · k^T), as the forward computes it
                    BLAS.matmulTransposedB(queries + first * w, lda: w, keys, ldb: w, probabilities, ldc: visible,
                                           m: count, n: visible, k: e, alpha: scale)
                    for r in 0..<count {
                        Kernels.softmaxRow(probabilities + r * visible, valid: first + r + 1, width: visible)
                    }
                    // dP[count, width] = dz · v^T
                    BLAS.matmulTransposedB(dzHead + first * zWidth, lda: zWidth, values, ldb: w, dScores, ldc: width,
                                           m: count, n: width, k: e)
                    if let pattern {
                        (pattern + first * t).update(from: dScores, count: count * t)
                    }
                    // dv[visible, E] += P^T · dz
                    BLAS.matmulTransposedA(probabilities, lda: visible, dzHead + first * zWidth, ldb: zWidth,
                                           dValues, ldc: w, m: visible, n: e, k: count, beta: 1)
                    for r in 0..<count {
                        BackwardKernels.softmaxRow(probabilities + r * visible, dp: dScores + r * width,
                                                   valid: first + r + 1, width: visible)
                    }
                    // dq[count, E] = scale * dscores · k;  dk[visible, E] += scale * dscores^T · q
                    BLAS.matmul(dScores, lda: width, keys, ldb: w, dQueries + first * w, ldc: w,
                                m: count, n: e, k: visible, alpha: scale)
                    BLAS.matmulTransposedA(dScores, lda: width, queries + first * w, ldb: w, dKeys, ldc: w,
                                           m: visible, n: e, k: count, alpha: scale, beta: 1)
                }
            }
        }
    }
}
