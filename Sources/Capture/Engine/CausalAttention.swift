import Foundation
import Shared

// Legend: N = packed tokens, T = one sequence's new tokens, P = its cached tokens, S = P + T,
// H = query heads, K = KV heads, E = head_dim, W = (H + 2K) * E = one row of fused q/k/v,
// G = H / K query heads per KV head, R = queries of a block, C = keys a block reads.

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

extension KeyValueSource.Segment {
    /// The k and v columns of one sequence's own fused q/k/v rows (no cache, no prefix).
    /// qkv: [N, W] of the whole packed batch.
    static func ownRows(of span: SequenceSpan, in qkv: UnsafePointer<Float>, config: ModelConfig) -> Self {
        let h = config.headCount, e = config.headDim, kvWidth = config.kvHeadCount * e, w = h * e + 2 * kvWidth
        let rows = qkv + span.rowStart * w
        return Self(keys: rows + h * e, values: rows + h * e + kvWidth, stride: w, count: span.tokenCount)
    }
}

/// Scaled dot-product attention with a causal mask (and a sliding window where the layer has
/// one), eager-style (scores, softmax, weighted values), over every sequence of a packed batch.
struct CausalAttention {
    let config: ModelConfig
    /// Queries handled per block: a block only computes the keys its queries can see, which
    /// skips most of the masked upper triangle of long prompts (and the keys before a window).
    let queryBlock = 128

    /// qkv: [N, W] after RoPE -> z: [N, H * E]. `window`: the layer's sliding window (nil: full
    /// causal attention). `patterns`, when given, receives each sequence's probabilities:
    /// patterns[b] is [H, T, S] and must be zero-filled; `lastRows[b]` ([H, S], zero-filled)
    /// receives only the last query's row.
    func run(qkv: UnsafePointer<Float>, layout: BatchLayout, sources: [KeyValueSource], window: Int?,
             z: UnsafeMutablePointer<Float>, patterns: [UnsafeMutablePointer<Float>]?,
             lastRows: [UnsafeMutablePointer<Float>]?) {
        let groupSize = config.groupSize, e = config.headDim
        let w = (config.headCount + 2 * config.kvHeadCount) * e, zWidth = config.attentionWidth
        let scale = config.attentionScale
        // One task per (sequence, KV group, block of queries): the group's query heads share one
        // GEMM against their keys, and long prompts split evenly over the threads. Threads take
        // tasks in order, so the last blocks of each sequence (the most keys) come first and the
        // small ones fill the gaps at the end.
        var tasks: [(sequence: Int, group: Int, first: Int)] = []
        for (b, span) in layout.sequences.enumerated() {
            for first in stride(from: 0, to: span.tokenCount, by: queryBlock).reversed() {
                for g in 0..<config.kvHeadCount { tasks.append((b, g, first)) }
            }
        }

        // Each task is one small GEMM chain; the tasks run side by side on single-threaded
        // BLAS rather than one after another on a threaded BLAS that cannot split them well.
        ComputeThreads.forEachCallingBLAS(tasks.count) { index in
            let (b, g, first) = tasks[index]
            let span = layout.sequences[b], t = span.tokenCount, s = span.keyCount
            let block = AttentionBlock(firstPosition: span.pastLength + first, rows: min(queryBlock, t - first),
                                       window: window)
            let keys = block.keys, width = keys.count, m = groupSize * block.rows
            let firstHead = g * groupSize
            let queries = UnsafeMutablePointer<Float>.allocate(capacity: m * e)        // [G * R, E]
            let probabilities = UnsafeMutablePointer<Float>.allocate(capacity: m * width)  // [G * R, C]
            let out = UnsafeMutablePointer<Float>.allocate(capacity: m * e)            // [G * R, E]
            defer {
                queries.deallocate()
                probabilities.deallocate()
                out.deallocate()
            }
            block.pack(qkv + (span.rowStart + first) * w + firstHead * e, stride: w, heads: groupSize, headDim: e,
                       into: queries)
            block.probabilities(queries: queries, heads: groupSize, headDim: e, source: sources[b], column: g * e,
                                scale: scale, into: probabilities)
            for j in 0..<groupSize {
                let h = firstHead + j
                for r in 0..<block.rows {
                    let row = probabilities + (j * block.rows + r) * width
                    if let patterns {
                        (patterns[b] + (h * t + first + r) * s + keys.lowerBound).update(from: row, count: width)
                    }
                    if let lastRows, first + r == t - 1 {
                        (lastRows[b] + h * s + keys.lowerBound).update(from: row, count: width)
                    }
                }
            }
            block.weightedValues(probabilities: probabilities, heads: groupSize, headDim: e, source: sources[b],
                                 column: g * e, into: out)
            block.unpack(out, heads: groupSize, headDim: e, into: z + (span.rowStart + first) * zWidth + firstHead * e,
                         stride: zWidth)
        }
    }
}
