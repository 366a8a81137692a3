import CKernels
import Shared

// Legend: G = query heads per KV head (one group), R = queries of a block, E = head_dim,
// W = (H + 2K) * E = one row of fused q/k/v, C = keys the block reads.

/// One block of consecutive queries of one sequence, for every query head of one KV group: the
/// unit that CausalAttention computes and AttentionBackward recomputes, so that both derive the
/// probabilities from the same GEMM shapes and the same softmax, bit for bit.
///
/// A query at position t sees the keys at positions (t - window, t] (all of [0, t] without a
/// window). The block reads only the keys its queries can see, `keys`: the positions from the
/// first query's window start to the last query, so a sliding window also skips the keys before it.
struct AttentionBlock {
    /// Position of the block's first query in its sequence (cached tokens included).
    let firstPosition: Int
    /// R
    let rows: Int
    /// The layer's sliding window; nil for full causal attention.
    let window: Int?

    /// The key positions the block reads: [C]
    var keys: Range<Int> {
        let lower = window.map { max(0, firstPosition - $0 + 1) } ?? 0
        return lower..<(firstPosition + rows)
    }

    /// The keys the block's query r sees, as columns of the block's rows (offsets from keys.lowerBound).
    func visibleColumns(ofRow r: Int) -> Range<Int> {
        let position = firstPosition + r, lower = keys.lowerBound
        let first = window.map { max(0, position - $0 + 1) } ?? 0
        return (first - lower)..<(position + 1 - lower)
    }

    /// Row i of the block's [G * R, C] products sees the columns before visibleEndOffset + i % R
    /// (`visibleColumns(ofRow: i % R).upperBound`): the staircase the packed kernel skips above.
    var visibleEndOffset: Int { firstPosition + 1 - keys.lowerBound }

    /// Copies the block's queries of `heads` consecutive heads into one matrix, head by head, so
    /// that one GEMM serves the whole group. queries: [R, W] rows, head j at column j * E ->
    /// packed: [G * R, E] (row j * R + r)
    func pack(_ queries: UnsafePointer<Float>, stride: Int, heads: Int, headDim e: Int,
              into packed: UnsafeMutablePointer<Float>) {
        for j in 0..<heads {
            for r in 0..<rows {
                (packed + (j * rows + r) * e).update(from: queries + r * stride + j * e, count: e)
            }
        }
    }

    /// The reverse of `pack`: packed [G * R, E] -> rows: [R, W] with head j at column j * E.
    func unpack(_ packed: UnsafePointer<Float>, heads: Int, headDim e: Int,
                into rowsOut: UnsafeMutablePointer<Float>, stride: Int) {
        for j in 0..<heads {
            for r in 0..<rows {
                (rowsOut + r * stride + j * e).update(from: packed + (j * rows + r) * e, count: e)
            }
        }
    }

    /// Whether the blocks' products run on CKernels' packed kernel (docs/methods.md §22.4): the
    /// keys (or values) of a block are packed once and meet all G * R query rows in one call.
    static let usesPackedKernel = icl_packed_gemm_available() != 0

    /// `product` (an icl_packed_gemm call, given a scratch of `floats` for its packed right-hand
    /// side) where the packed kernel runs; false where it does not or failed, for the caller to
    /// run OpenBLAS instead.
    private static func packedProduct(floats: Int, _ product: (UnsafeMutablePointer<Float>) -> Int32) -> Bool {
        guard usesPackedKernel else { return false }
        let packed = UnsafeMutablePointer<Float>.allocate(capacity: floats)
        defer { packed.deallocate() }
        return product(packed) == 0
    }

    /// probabilities[G * R, C] = softmax(scale * q · k^T) over each query's visible keys, 0 on
    /// the others. queries: packed [G * R, E]; `source` holds the sequence's keys from position 0,
    /// this group's at column `column` of each segment's rows.
    func probabilities(queries: UnsafePointer<Float>, heads: Int, headDim e: Int, source: KeyValueSource,
                       column: Int, scale: Float, into probabilities: UnsafeMutablePointer<Float>) {
        let width = keys.count, m = heads * rows
        let done = Self.packedProduct(floats: icl_packed_weights_count(width, e)) { packedKeys in
            source.forEachPart(of: keys) { part in
                icl_pack_rows(part.keys + column, part.stride, part.column, part.count, width, e, packedKeys)
            }
            return icl_packed_gemm_causal(queries, e, packedKeys, e, width, probabilities, width, m, scale, rows,
                                          visibleEndOffset, Int32(ICL_CAUSAL_COLUMNS))
        }
        if !done {
            source.forEachPart(of: keys) { part in
                BLAS.matmulTransposedB(queries, lda: e, part.keys + column, ldb: part.stride,
                                       probabilities + part.column, ldc: width, m: m, n: part.count, k: e, alpha: scale)
            }
        }
        for j in 0..<heads {
            for r in 0..<rows {
                let visible = visibleColumns(ofRow: r)
                icl_softmax_row(probabilities + (j * rows + r) * width, visible.lowerBound, visible.upperBound, width)
            }
        }
    }

    /// out[G * R, E] = probabilities[G * R, C] · v[C, E], v being this group's values (column
    /// `column` of each segment's rows) at the block's keys.
    func weightedValues(probabilities: UnsafePointer<Float>, heads: Int, headDim e: Int, source: KeyValueSource,
                        column: Int, into out: UnsafeMutablePointer<Float>) {
        let width = keys.count, m = heads * rows
        let done = Self.packedProduct(floats: icl_packed_weights_count(e, width)) { packedValues in
            source.forEachPart(of: keys) { part in
                icl_pack_transposed(part.values + column, part.stride, part.column, part.count, e, width, packedValues)
            }
            return icl_packed_gemm_causal(probabilities, width, packedValues, width, e, out, e, m, 1, rows,
                                          visibleEndOffset, Int32(ICL_CAUSAL_DEPTH))
        }
        if !done {
            source.forEachPart(of: keys) { part in
                BLAS.matmul(probabilities + part.column, lda: width, part.values + column, ldb: part.stride,
                            out, ldc: e, m: m, n: e, k: part.count, beta: part.column == 0 ? 0 : 1)
            }
        }
    }
}

extension KeyValueSource {
    /// A run of consecutive key positions inside one segment.
    struct Part {
        /// The first key of the run, and its value: [count, stride] from there.
        let keys: UnsafePointer<Float>
        let values: UnsafePointer<Float>
        let stride: Int
        let count: Int
        /// Offset of the run's first key from the start of the requested range.
        let column: Int
    }

    /// The segments' pieces that cover `positions`, in order.
    func forEachPart(of positions: Range<Int>, _ body: (Part) -> Void) {
        var start = 0
        for segment in segments {
            let lower = max(start, positions.lowerBound), upper = min(start + segment.count, positions.upperBound)
            if lower < upper {
                let skip = (lower - start) * segment.stride
                body(Part(keys: segment.keys + skip, values: segment.values + skip, stride: segment.stride,
                          count: upper - lower, column: lower - positions.lowerBound))
            }
            start += segment.count
        }
    }
}
