import Foundation
import Shared

// Legend: N = packed tokens, T = one sequence's tokens (= S, its keys: no KV cache here),
// H = query heads, K = KV heads, E = head_dim, W = (H + 2K) * E = one row of fused q/k/v,
// G = H / K query heads per KV head, R = queries of a block, C = keys a block reads.

/// The reverse of CausalAttention.run for prompts without a KV cache. The forward of a block of
/// queries (scores = scale q·k^T, masked softmax P, z = P·v) is recomputed beside its backward,
/// with the forward's AttentionBlock (the same GEMM shapes and softmax, so the same P):
///     dP = dz·v^T,  dscores = softmax'(dP),  dq = scale dscores·k,
///     dk += scale dscores^T·q,  dv += P^T·dz
/// Query heads that share a KV head add into the same dk/dv rows, so one task owns one
/// (sequence, KV head) pair and every query head of its group: no two tasks write the same rows.
/// The group's heads are packed as in the forward, so each product above is one GEMM per block.
struct AttentionBackward {
    let config: ModelConfig
    /// Queries per block, as in the forward pass.
    let queryBlock = 128

    /// qkv: [N, W] after RoPE; dz: [N, H * E] -> dqkv: [N, W] (dq, dk, dv, all overwritten).
    /// `window`: the layer's sliding window (nil: full causal attention).
    /// `patternGradients[b]`, when given, receives dM/dP of sequence b: [H, T, T], every
    /// entry, the masked ones included (dz_t · v_s: what a change of that probability would do).
    func run(qkv: UnsafePointer<Float>, dz: UnsafePointer<Float>, layout: BatchLayout, window: Int?,
             dqkv: UnsafeMutablePointer<Float>, patternGradients: [UnsafeMutablePointer<Float>]?) {
        let heads = config.headCount, groups = config.kvHeadCount, groupSize = config.groupSize
        let e = config.headDim, w = (heads + 2 * groups) * e, zWidth = heads * e
        let scale = config.attentionScale
        let tasks = layout.sequences.indices.flatMap { b in (0..<groups).map { (sequence: b, group: $0) } }

        ComputeThreads.forEachCallingBLAS(tasks.count) { index in
            let (b, g) = tasks[index]
            let span = layout.sequences[b], t = span.tokenCount, firstHead = g * groupSize
            let rows = qkv + span.rowStart * w, dRows = dqkv + span.rowStart * w
            let keys = rows + (heads + g) * e, values = rows + (heads + groups + g) * e
            let dKeys = dRows + (heads + g) * e, dValues = dRows + (heads + groups + g) * e
            let source = KeyValueSource(segments: [.ownRows(of: span, in: qkv, config: config)])
            for r in 0..<t {
                (dKeys + r * w).update(repeating: 0, count: e)
                (dValues + r * w).update(repeating: 0, count: e)
            }
            let capacity = groupSize * min(queryBlock, t)
            let queries = UnsafeMutablePointer<Float>.allocate(capacity: capacity * e)   // [G * R, E]
            let dzPacked = UnsafeMutablePointer<Float>.allocate(capacity: capacity * e)  // [G * R, E]
            let dQueries = UnsafeMutablePointer<Float>.allocate(capacity: capacity * e)  // [G * R, E]
            let probabilities = UnsafeMutablePointer<Float>.allocate(capacity: capacity * t)  // [G * R, C]
            let dScores = UnsafeMutablePointer<Float>.allocate(capacity: capacity * t)  // [G * R, C or T]
            defer {
                for buffer in [queries, dzPacked, dQueries, probabilities, dScores] { buffer.deallocate() }
            }
            for first in stride(from: 0, to: t, by: queryBlock) {
                let block = AttentionBlock(firstPosition: first, rows: min(queryBlock, t - first), window: window)
                let lower = block.keys.lowerBound, width = block.keys.count, m = groupSize * block.rows
                block.pack(rows + first * w + firstHead * e, stride: w, heads: groupSize, headDim: e, into: queries)
                block.pack(dz + (span.rowStart + first) * zWidth + firstHead * e, stride: zWidth, heads: groupSize,
                           headDim: e, into: dzPacked)
                block.probabilities(queries: queries, heads: groupSize, headDim: e, source: source, column: g * e,
                                    scale: scale, into: probabilities)
                // dP = dz · v^T over the block's keys, or over every key when the pattern's gradient
                // is asked for; dScores then views the block's keys at column `lower` of rows of T.
                let dP: UnsafeMutablePointer<Float>, ldp: Int
                if let patternGradients {
                    BLAS.matmulTransposedB(dzPacked, lda: e, values, ldb: w, dScores, ldc: t, m: m, n: t, k: e)
                    for j in 0..<groupSize {
                        (patternGradients[b] + ((firstHead + j) * t + first) * t)
                            .update(from: dScores + j * block.rows * t, count: block.rows * t)
                    }
                    (dP, ldp) = (dScores + lower, t)
                } else {
                    BLAS.matmulTransposedB(dzPacked, lda: e, values + lower * w, ldb: w, dScores, ldc: width,
                                           m: m, n: width, k: e)
                    (dP, ldp) = (dScores, width)
                }
                // dv[C, E] += P^T · dz, summed over the group's heads and the block's queries
                BLAS.matmulTransposedA(probabilities, lda: width, dzPacked, ldb: e, dValues + lower * w, ldc: w,
                                       m: width, n: e, k: m, beta: 1)
                for j in 0..<groupSize {
                    for r in 0..<block.rows {
                        let row = j * block.rows + r
                        BackwardKernels.softmaxRow(probabilities + row * width, dp: dP + row * ldp,
                                                   visible: block.visibleColumns(ofRow: r), width: width)
                    }
                }
                // dq[G * R, E] = scale * dscores · k;  dk[C, E] += scale * dscores^T · q
                BLAS.matmul(dP, lda: ldp, keys + lower * w, ldb: w, dQueries, ldc: e, m: m, n: e, k: width,
                            alpha: scale)
                block.unpack(dQueries, heads: groupSize, headDim: e, into: dRows + first * w + firstHead * e, stride: w)
                BLAS.matmulTransposedA(dP, lda: ldp, queries, ldb: e, dKeys + lower * w, ldc: w,
                                       m: width, n: e, k: m, alpha: scale, beta: 1)
            }
        }
    }
}
