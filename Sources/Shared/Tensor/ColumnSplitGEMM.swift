/// Weight GEMMs on the compute threads: the output's columns are split into one contiguous range
/// per thread, and each thread runs single-threaded OpenBLAS on its range. Each thread reads only
/// its share of the weight matrix (the large operand) and packs the whole activation matrix (the
/// small one), so the threads never wait on each other inside a product, and the engine's
/// element-wise loops and attention run on the same threads instead of beside OpenBLAS's own pool
/// (whose workers spin after each product while the next parallel loop wants the cores).
extension BLAS {
    /// `matmulTransposedB` (C[m, n] = A[m, k] · B[n, k]^T), the n output columns split across threads.
    public static func matmulTransposedBSplittingColumns(
        _ a: UnsafePointer<Float>, lda: Int,
        _ b: UnsafePointer<Float>, ldb: Int,
        _ c: UnsafeMutablePointer<Float>, ldc: Int,
        m: Int, n: Int, k: Int
    ) {
        forEachColumnRange(n) { columns in
            matmulTransposedB(a, lda: lda, b + columns.lowerBound * ldb, ldb: ldb, c + columns.lowerBound, ldc: ldc,
                              m: m, n: columns.count, k: k)
        }
    }

    /// `matmul` (C[m, n] = A[m, k] · B[k, n]), the n output columns split across threads.
    public static func matmulSplittingColumns(
        _ a: UnsafePointer<Float>, lda: Int,
        _ b: UnsafePointer<Float>, ldb: Int,
        _ c: UnsafeMutablePointer<Float>, ldc: Int,
        m: Int, n: Int, k: Int
    ) {
        forEachColumnRange(n) { columns in
            matmul(a, lda: lda, b + columns.lowerBound, ldb: ldb, c + columns.lowerBound, ldc: ldc,
                   m: m, n: columns.count, k: k)
        }
    }

    /// Runs `body` on one contiguous range of the n output columns per compute thread, with
    /// OpenBLAS single-threaded meanwhile. Columns per range are a multiple of 64 (whole cache
    /// lines of every output row) except in the last range; narrow products stay on one thread.
    public static func forEachColumnRange(_ n: Int, _ body: (Range<Int>) -> Void) {
        let quantum = 64
        let parts = max(1, min(ComputeThreads.count, n / quantum))
        let quanta = (n + quantum - 1) / quantum
        ComputeThreads.forEachCallingBLAS(parts) { part in
            let lower = min(n, quanta * part / parts * quantum)
            let upper = part == parts - 1 ? n : min(n, quanta * (part + 1) / parts * quantum)
            if lower < upper { body(lower..<upper) }
        }
    }
}
