import Foundation
import Shared

// Legend: N = packed tokens, T = one sequence's new tokens, P = its cached tokens, S = P + T,
// H = query heads, K = KV heads, E = head_dim, W = (H + 2K) * E = one row of fused q/k/v.

/// Where one sequence's keys and values for a layer live, in position order: one or more
/// segments, each a run of consecutive positions in one buffer. A KV cache is one segment
/// (the past and this call's tokens); a cache-free prompt is one segment (the k and v columns
/// of its fused q/k/v rows); a read-only shared prefix is two (the prefix's cache, then this
/// call's own rows), so that many sequences can read one prefix without copying it.
struct KeyValueSource {
    struct Segment {
        let keys: UnsafePointer<Float>     // [count, stride], head g at column g * E
        let values: UnsafePointer<Float>   // [count, stride]
        let stride: Int
        let count: Int
    }

    let segments: [Segment]
}

/// Scaled dot-product attention with a causal mask, eager-style (scores, softmax, weighted
/// values), over every (sequence, query head) pair of a packed batch.
struct CausalAttention {
    let config: ModelConfig
    /// Queries handled per GEMM; a block only computes the keys its last query can see, which
    /// skips most of the masked upper triangle of long prompts.
    let queryBlock = 128

    /// qkv: [N, W] after RoPE -> z: [N, H * E]. `patterns`, when given, receives each
    /// sequence's probabilities: patterns[b] is [H, T, S] and must be zero-filled;
    /// `lastRows[b]` ([H, S]) receives only the last query's row.
    func run(qkv: UnsafePointer<Float>, layout: BatchLayout, sources: [KeyValueSource],
             z: UnsafeMutablePointer<Float>, patterns: [UnsafeMutablePointer<Float>]?,
             lastRows: [UnsafeMutablePointer<Float>]?) {
        let heads = config.headCount
        let e = config.headDim, w = (heads + 2 * config.kvHeadCount) * e, zWidth = heads * e
        let scale = 1 / Float(e).squareRoot()
        // One task per (sequence, head, block of queries): blocks are independent, and long
        // prompts then split evenly over the threads instead of by head alone.
        var tasks: [(sequence: Int, head: Int, first: Int)] = []
        for (b, span) in layout.sequences.enumerated() {
            for h in 0..<heads {
                for first in stride(from: 0, to: span.tokenCount, by: queryBlock) { tasks.append((b, h, first)) }
            }
        }

        // Each task is one small GEMM chain; the tasks run side by side on single-threaded
        // BLAS rather than one after another on a threaded BLAS that cannot split them well.
        ComputeThreads.forEachCallingBLAS(tasks.count) { index in
            let (b, h, first) = tasks[index]
            let span = layout.sequences[b], source = sources[b]
            let g = config.kvHead(forQueryHead: h)
            let s = span.keyCount, p = span.pastLength
            let queries = qkv + span.rowStart * w + h * e
            let out = z + span.rowStart * zWidth + h * e
            let pattern = patterns.map { $0[b] + h * span.tokenCount * s }
            let lastRow = lastRows.map { $0[b] + h * s }
            let rows = min(queryBlock, span.tokenCount - first)
            let visible = p + first + rows
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: rows * visible)
            defer { scores.deallocate() }

            // scores[rows, visible] = scale * q · k^T, one GEMM per key segment
            var offset = 0
            for segment in source.segments where offset < visible && segment.count > 0 {
                let count = min(segment.count, visible - offset)
                BLAS.matmulTransposedB(queries + first * w, lda: w, segment.keys + g * e, ldb: segment.stride,
                                       scores + offset, ldc: visible, m: rows, n: count, k: e, alpha: scale)
                offset += count
            }
            for r in 0..<rows {
                let row = scores + r * visible
                Kernels.softmaxRow(row, valid: p + first + r + 1, width: visible)
                if let pattern {
                    (pattern + (first + r) * s).update(from: row, count: visible)
                }
                if let lastRow, first + r == span.tokenCount - 1 {
                    lastRow.update(from: row, count: visible)
                }
            }
            // z[rows, E] = probabilities · v, summed over the key segments
            offset = 0
            for segment in source.segments where offset < visible && segment.count > 0 {
                let count = min(segment.count, visible - offset)
                BLAS.matmul(scores + offset, lda: visible, segment.values + g * e, ldb: segment.stride,
                            out + first * zWidth, ldc: zWidth, m: rows, n: e, k: count, beta: offset == 0 ? 0 : 1)
                offset += count
            }
        }
    }
}
