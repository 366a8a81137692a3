import CKernels
import Capture
import Shared
import TestSupport
import XCTest

/// The packed weight product (CKernels' icl_packed_gemm, docs/methods.md §22.4) against a Double
/// reference, and the engine with packed weights against the engine with OpenBLAS's products.
final class PackedGEMMTests: XCTestCase {
    private struct Case {
        let m: Int, n: Int, k: Int
        var lda: Int { k + 3 }
        var ldc: Int { n + 5 }
    }

    /// Random values in [-1, 1).
    private func values(_ count: Int, seed: UInt64) -> [Float] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { _ in random.nextSignedUnit() }
    }

    private func packed(_ w: [Float], n: Int, k: Int) -> [Float] {
        var panels = [Float](repeating: .nan, count: icl_packed_weights_count(n, k))
        icl_pack_weights(w, k, n, k, &panels)
        return panels
    }

    /// C with a sentinel everywhere, then the product of the given column ranges written into it.
    private func product(_ a: [Float], _ panels: [Float], _ c: Case, ranges: [Range<Int>], rows: Int? = nil) -> [Float] {
        var out = [Float](repeating: 12345, count: c.m * c.ldc)
        for range in ranges {
            XCTAssertEqual(icl_packed_gemm(a, c.lda, panels, c.k, range.lowerBound, range.count, &out, c.ldc, rows ?? c.m, 1), 0)
        }
        return out
    }

    func testProductMatchesDoublePrecisionWithinTheFloatSummationBound() throws {
        try XCTSkipUnless(icl_packed_gemm_available() != 0, "the packed kernel needs AVX2 and FMA")
        // Edge strips (m not a multiple of 6), edge panels (n not a multiple of 16), k not a
        // multiple of the unroll, k over one block (384), rows over one block of A.
        let cases = [Case(m: 1, n: 16, k: 5), Case(m: 7, n: 33, k: 17), Case(m: 13, n: 50, k: 400),
                     Case(m: 250, n: 40, k: 800), Case(m: 5, n: 1, k: 3), Case(m: 300, n: 70, k: 1000),
                     Case(m: 6, n: 16, k: 0)]
        for (i, c) in cases.enumerated() {
            let a = values(c.m * c.lda, seed: UInt64(2 * i)), w = values(c.n * c.k, seed: UInt64(2 * i + 1))
            let panels = packed(w, n: c.n, k: c.k)
            let splits = [[0..<c.n], c.n > 16 ? [0..<16, 16..<c.n] : [0..<c.n]]
            for ranges in splits {
                let out = product(a, panels, c, ranges: ranges)
                var worst = 0.0
                for i in 0..<c.m {
                    for j in 0..<c.n {
                        var exact = 0.0, size = 0.0
                        for kk in 0..<c.k {
                            let term = Double(a[i * c.lda + kk]) * Double(w[j * c.k + kk])
                            exact += term
                            size += abs(term)
                        }
                        // |fl(sum) - sum| <= k u sum |terms| (u = 2^-24) for any summation order.
                        let bound = Double(c.k) * Double(Float.ulpOfOne) / 2 * size
                        worst = max(worst, abs(Double(out[i * c.ldc + j]) - exact) / max(bound, .leastNormalMagnitude))
                    }
                    for j in c.n..<c.ldc { XCTAssertEqual(out[i * c.ldc + j], 12345, "case \(c): column \(j) written") }
                }
                XCTAssertLessThanOrEqual(worst, 1, "case \(c), ranges \(ranges): error over the bound")
            }
        }
    }

    func testARowsResultDoesNotDependOnThePromptLengthOrTheColumnSplit() throws {
        try XCTSkipUnless(icl_packed_gemm_available() != 0, "the packed kernel needs AVX2 and FMA")
        let c = Case(m: 257, n: 96, k: 576)
        let a = values(c.m * c.lda, seed: 21), panels = packed(values(c.n * c.k, seed: 22), n: c.n, k: c.k)
        let whole = product(a, panels, c, ranges: [0..<c.n])
        XCTAssertEqual(product(a, panels, c, ranges: [0..<64, 64..<96]), whole)
        for rows in [1, 5, 6, 7, 250] {
            let prefix = product(a, panels, c, ranges: [0..<c.n], rows: rows)
            XCTAssertEqual(Array(prefix[0..<(rows * c.ldc)]), Array(whole[0..<(rows * c.ldc)]), "\(rows) rows")
        }
    }

    /// The causal product computes, for every row, exactly the full product's elements it keeps,
    /// and skips whole tiles above the staircase (they keep the sentinel).
    func testCausalProductKeepsTheFullProductsElementsAndSkipsTilesAboveTheStaircase() throws {
        try XCTSkipUnless(icl_packed_gemm_available() != 0, "the packed kernel needs AVX2 and FMA")
        // Attention's shapes: G = 3 heads of R = 50 queries (strips straddle heads), keys from 30
        // before the block (offset 31); and a first block (offset 1) whose k = 400 makes two k
        // blocks, the second beyond every row's end.
        for (period, offset, n) in [(50, 31, 80), (130, 1, 400)] {
            let c = Case(m: 3 * period, n: n, k: n)
            let end = { (row: Int) in offset + row % period }
            let panels = packed(values(c.n * c.k, seed: 41), n: c.n, k: c.k)

            // Columns: scores q · kᵀ, kept below end(i).
            let a = values(c.m * c.lda, seed: 42)
            let full = product(a, panels, c, ranges: [0..<c.n])
            var causal = [Float](repeating: 12345, count: c.m * c.ldc)
            XCTAssertEqual(icl_packed_gemm_causal(a, c.lda, panels, c.k, c.n, &causal, c.ldc, c.m, 1, period, offset,
                                                  Int32(ICL_CAUSAL_COLUMNS)), 0)
            for i in 0..<c.m {
                // The 16-column tiles its strip of 6 rows needs are computed; the others are not.
                let strip = (i / 6 * 6)..<min(i / 6 * 6 + 6, c.m)
                let computed = min(c.n, (strip.map(end).max()! + 15) / 16 * 16)
                for j in 0..<c.n {
                    if j < min(end(i), c.n) {
                        XCTAssertEqual(causal[i * c.ldc + j], full[i * c.ldc + j], "columns: row \(i), column \(j)")
                    } else if j >= computed {
                        XCTAssertEqual(causal[i * c.ldc + j], 12345, "columns: row \(i), column \(j) computed")
                    }
                }
            }

            // Depth: probabilities · v, zero beyond end(i), equal to the full sum bit for bit.
            var p = a
            for i in 0..<c.m { for kk in end(i)..<c.lda { p[i * c.lda + kk] = 0 } }
            let fullDepth = product(p, panels, c, ranges: [0..<c.n])
            var causalDepth = [Float](repeating: 12345, count: c.m * c.ldc)
            XCTAssertEqual(icl_packed_gemm_causal(p, c.lda, panels, c.k, c.n, &causalDepth, c.ldc, c.m, 1, period,
                                                  offset, Int32(ICL_CAUSAL_DEPTH)), 0)
            XCTAssertEqual(causalDepth, fullDepth, "depth: period \(period), offset \(offset)")
        }
    }

    func testPackingATransposeOrRowsInPartsGivesThePackedMatrix() throws {
        let n = 37, k = 29
        let w = values(n * k, seed: 31)   // W [n, k]
        let whole = packed(w, n: n, k: k)
        // V = Wᵀ [k, n] row-major, packed as the weight W in two parts of its k rows.
        var v = [Float](repeating: 0, count: k * n)
        for row in 0..<n { for column in 0..<k { v[column * n + row] = w[row * k + column] } }
        var fromTranspose = [Float](repeating: .nan, count: whole.count)
        v.withUnsafeBufferPointer { source in
            icl_pack_transposed(source.baseAddress!, n, 0, 11, n, k, &fromTranspose)
            icl_pack_transposed(source.baseAddress! + 11 * n, n, 11, k - 11, n, k, &fromTranspose)
        }
        XCTAssertEqual(fromTranspose, whole)
        // W's rows in two parts, the second ending at row n (it zeroes the padding rows).
        var fromRows = [Float](repeating: .nan, count: whole.count)
        w.withUnsafeBufferPointer { source in
            icl_pack_rows(source.baseAddress!, k, 0, 20, n, k, &fromRows)
            icl_pack_rows(source.baseAddress! + 20 * k, k, 20, n - 20, n, k, &fromRows)
        }
        XCTAssertEqual(fromRows, whole)
    }

    func testPackedAndOpenBLASEnginesAgree() throws {
        try XCTSkipUnless(icl_packed_gemm_available() != 0, "the packed kernel needs AVX2 and FMA")
        let packedModel = try SyntheticModel.make()
        let plain = try Transformer(config: packedModel.config, weights: packedModel.weights, source: "synthetic",
                                    weightPacking: .off)
        XCTAssertTrue(packedModel.packsWeights)
        XCTAssertFalse(plain.packsWeights)
        let tokens = SyntheticModel.tokens(150, seed: 3)
        let result = compare(try packedModel.forward(tokens: tokens, logits: .all).logits,
                             try plain.forward(tokens: tokens, logits: .all).logits, relativeFloor: 1)
        XCTAssertLessThan(result.maxAbsoluteDifference, 1e-5, "\(result)")
        XCTAssertGreaterThan(result.maxAbsoluteDifference, 0, "both engines ran the same products")
    }
}
