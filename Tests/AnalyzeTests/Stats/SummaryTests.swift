import Analyze
import Shared
import XCTest

/// Mean and quantile against numpy.nanmean and numpy.nanquantile (Tests/Fixtures/stats/quantile.json).
/// Tolerance: 1e-12 relative to the sample's scale (numpy sums pairwise, this sums in order).
final class SummaryTests: XCTestCase {
    func testQuantilesAndMeansAgreeWithNumpy() throws {
        let cases = try StatsFixtures.load("quantile.json", as: StatsFixtures.QuantileCase.self)
        XCTAssertGreaterThanOrEqual(cases.count, 9)
        var worst = 0.0
        for c in cases {
            let values = c.values.withNaN
            let scale = max(1, values.filter { !$0.isNaN }.map(abs).max() ?? 1)
            XCTAssertEqual(c.q.count, c.quantiles.count, c.name)
            for (q, expected) in zip(c.q, c.quantiles) {
                worst = max(worst, assertMatches(Summary.quantile(values, q), expected, tolerance: 1e-12 * scale, "\(c.name) q=\(q)"))
            }
            XCTAssertEqual(Summary.quantiles(values, c.q.reversed()), c.q.reversed().map { Summary.quantile(values, $0) }, c.name)
            worst = max(worst, assertMatches(Summary.mean(values), c.mean, tolerance: 1e-12 * scale, "\(c.name) mean"))
        }
        print("quantile and mean vs numpy over \(cases.count) cases: max |diff| \(worst)")
    }

    /// Selection against the definition on a sorted copy, on samples with many ties, for
    /// several q's at once and in any order.
    func testQuantilesBySelectionMatchTheSortedDefinition() {
        var generator = SplitMix64(seed: 9)
        for trial in 0..<200 {
            let n = 1 + generator.uniform(below: 300)
            let levels = 1 + generator.uniform(below: 40)
            let values = (0..<n).map { _ in Double(generator.uniform(below: levels)) / 7 }
            let qs = (0..<5).map { _ in Double(generator.uniform(below: 1001)) / 1000 } + [0.025, 0.975, 0, 1]
            let sorted = values.sorted()
            let expected = qs.map { q -> Double in
                let virtualIndex = q * Double(n - 1)
                let below = Int(virtualIndex), t = virtualIndex - Double(below)
                let a = sorted[below], b = sorted[min(below + 1, n - 1)]
                return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t
            }
            XCTAssertEqual(Summary.quantiles(values, qs), expected, "trial \(trial), n=\(n)")
        }
    }

    func testOutOfRangeQuantileIsNil() {
        XCTAssertNil(Summary.quantile([1, 2, 3], 1.5))
        XCTAssertNil(Summary.quantile([1, 2, 3], -0.1))
        XCTAssertNil(Summary.quantile([1, 2, 3], .nan))
        XCTAssertNil(Summary.mean([]))
    }
}
