import Shared
import TestSupport
import XCTest

final class BLASTests: XCTestCase {
    /// x · W^T against a naive triple loop on a strided view of x.
    func testMatmulTransposedBMatchesNaiveLoop() {
        let m = 5, n = 7, k = 3, lda = 4
        let a = (0..<(m * lda)).map { Float(($0 * 37) % 11) - 5 }
        let b = (0..<(n * k)).map { Float(($0 * 13) % 7) - 3 }
        var c = [Float](repeating: 0, count: m * n)
        BLAS.matmulTransposedB(a, lda: lda, b, ldb: k, &c, ldc: n, m: m, n: n, k: k)
        var expected = [Float](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n { for p in 0..<k { expected[i * n + j] += a[i * lda + p] * b[j * k + p] } } }
        let result = compare(c, expected)
        XCTAssertEqual(result.maxAbsoluteDifference, 0, "\(result)")
    }

    /// The column-split products against naive loops on every thread count that splits them
    /// differently (n = 200: one range, two of 128 + 72, three of 64 + 64 + 72), on strided
    /// views; small integers make every sum exact, so any order gives the same floats. The
    /// padding columns of C (ldc > n) must stay untouched.
    func testColumnSplitProductsMatchNaiveLoops() {
        let m = 7, n = 200, k = 37, lda = 40, ldc = 203
        let a = (0..<(m * lda)).map { Float(($0 * 37) % 11) - 5 }
        let bRows = (0..<(n * k)).map { Float(($0 * 13) % 7) - 3 }     // [n, k] for A · B^T
        let bColumns = (0..<(k * n)).map { Float(($0 * 17) % 9) - 4 }  // [k, n] for A · B
        var transposedExpected = [Float](repeating: -1, count: m * ldc)
        var plainExpected = [Float](repeating: -1, count: m * ldc)
        for i in 0..<m {
            for j in 0..<n {
                var transposed: Float = 0, plain: Float = 0
                for p in 0..<k {
                    transposed += a[i * lda + p] * bRows[j * k + p]
                    plain += a[i * lda + p] * bColumns[p * n + j]
                }
                transposedExpected[i * ldc + j] = transposed
                plainExpected[i * ldc + j] = plain
            }
        }
        let previous = ComputeThreads.count
        defer { ComputeThreads.set(previous) }
        for threads in [1, 2, 3] {
            ComputeThreads.set(threads)
            var transposed = [Float](repeating: -1, count: m * ldc)
            var plain = [Float](repeating: -1, count: m * ldc)
            BLAS.matmulTransposedBSplittingColumns(a, lda: lda, bRows, ldb: k, &transposed, ldc: ldc, m: m, n: n, k: k)
            BLAS.matmulSplittingColumns(a, lda: lda, bColumns, ldb: n, &plain, ldc: ldc, m: m, n: n, k: k)
            XCTAssertEqual(transposed, transposedExpected, "A · B^T on \(threads) threads")
            XCTAssertEqual(plain, plainExpected, "A · B on \(threads) threads")
            XCTAssertEqual(BLAS.threads, threads, "OpenBLAS's thread count is restored")
        }
    }

    func testInputErrorNamesTheFile() {
        XCTAssertEqual(InputError(file: "m.gguf", "truncated").description, "m.gguf: truncated")
        XCTAssertEqual(InputError(file: nil, "no model given").description, "no model given")
    }
}
