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

    func testInputErrorNamesTheFile() {
        XCTAssertEqual(InputError(file: "m.gguf", "truncated").description, "m.gguf: truncated")
        XCTAssertEqual(InputError(file: nil, "no model given").description, "no model given")
    }
}
