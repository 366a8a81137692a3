import COpenBLAS

/// Matrix products on OpenBLAS: fp32 for the model and the analyzer's passes, fp64 for the
/// bootstrap's sums. Every matrix is row-major.
public enum BLAS {
    /// Threads OpenBLAS may use for one call (the `--threads` option).
    public static func setThreads(_ count: Int) {
        openblas_set_num_threads(Int32(max(1, count)))
    }

    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// C[m, n] = alpha * A[m, k] · B[n, k]^T + beta * C, the shape of `x · W^T` for a weight
    /// W stored [out, in] as in Hugging Face checkpoints. Leading dimensions allow strided views.
    public static func matmulTransposedB(
        _ a: UnsafePointer<Float>, lda: Int,
        _ b: UnsafePointer<Float>, ldb: Int,
        _ c: UnsafeMutablePointer<Float>, ldc: Int,
        m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0
    ) {
        if m == 1 {
            // OpenBLAS's sgemm packs all of B for a single row (2.5x sgemv's time for the
            // unembedding of one position).
            vectorTimesMatrix(a, b, ldb: ldb, c, rows: n, columns: k, transposed: false, alpha: alpha, beta: beta)
            return
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                    beta, c, Int32(ldc))
    }

    /// C[m, n] = alpha * A[m, k] · B[k, n] + beta * C.
    public static func matmul(
        _ a: UnsafePointer<Float>, lda: Int,
        _ b: UnsafePointer<Float>, ldb: Int,
        _ c: UnsafeMutablePointer<Float>, ldc: Int,
        m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0
    ) {
        if m == 1 {
            vectorTimesMatrix(a, b, ldb: ldb, c, rows: k, columns: n, transposed: true, alpha: alpha, beta: beta)
            return
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                    beta, c, Int32(ldc))
    }

    /// A product with one row of A: c = alpha * B · a + beta * c for B[rows, columns], or
    /// alpha * B^T · a + beta * c when transposed. With beta 0, c is cleared first, so that NaN
    /// or garbage in it never reaches the result (BLAS implementations differ on whether y * 0
    /// is computed).
    private static func vectorTimesMatrix(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, ldb: Int, _ c: UnsafeMutablePointer<Float>,
        rows: Int, columns: Int, transposed: Bool, alpha: Float, beta: Float
    ) {
        if beta == 0 { c.update(repeating: 0, count: transposed ? columns : rows) }
        guard rows > 0 && columns > 0 else { return }
        cblas_sgemv(CblasRowMajor, transposed ? CblasTrans : CblasNoTrans, Int32(rows), Int32(columns), alpha,
                    b, Int32(ldb), a, 1, beta, c, 1)
    }

    /// C[m, n] = alpha * A[k, m]^T · B[k, n] + beta * C: the reverse pass's accumulation of
    /// row-wise products (e.g. dV = P^T · dZ), without materialising the transpose.
    public static func matmulTransposedA(
        _ a: UnsafePointer<Float>, lda: Int,
        _ b: UnsafePointer<Float>, ldb: Int,
        _ c: UnsafeMutablePointer<Float>, ldc: Int,
        m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0
    ) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                    beta, c, Int32(ldc))
    }

    /// C[m, n] = alpha * A[m, k] · B[k, n] + beta * C in fp64.
    public static func matmul(
        _ a: UnsafePointer<Double>, lda: Int,
        _ b: UnsafePointer<Double>, ldb: Int,
        _ c: UnsafeMutablePointer<Double>, ldc: Int,
        m: Int, n: Int, k: Int, alpha: Double = 1, beta: Double = 0
    ) {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                    beta, c, Int32(ldc))
    }
}
