import Analyze
import Dispatch
import Shared
import XCTest

/// Pearson, Spearman and Kendall's tau-b against scipy.stats (Tests/Fixtures/stats/correlation.json).
/// Tolerance 1e-12: the same formulas in a different summation order differ by a few ulps.
final class CorrelationTests: XCTestCase {
    private let tolerance = 1e-12

    func testAgreesWithScipyOnEveryFixtureCase() throws {
        let cases = try StatsFixtures.load("correlation.json", as: StatsFixtures.CorrelationCase.self)
        XCTAssertGreaterThanOrEqual(cases.count, 19)
        var worst = (pearson: 0.0, spearman: 0.0, kendall: 0.0)
        for c in cases {
            let x = c.x.withNaN, y = c.y.withNaN
            worst.pearson = max(worst.pearson, assertMatches(Correlation.pearson(x, y), c.pearson, tolerance: tolerance, "pearson \(c.name)"))
            worst.spearman = max(worst.spearman, assertMatches(Correlation.spearman(x, y), c.spearman, tolerance: tolerance, "spearman \(c.name)"))
            worst.kendall = max(worst.kendall, assertMatches(Correlation.kendallTauB(x, y), c.kendallTauB, tolerance: tolerance, "kendall \(c.name)"))
        }
        print("correlation vs scipy over \(cases.count) cases: max |diff| pearson \(worst.pearson), spearman \(worst.spearman), kendall tau-b \(worst.kendall)")
    }

    func testPerfectMonotoneIsOneAndReversedIsMinusOne() throws {
        let x = (1...50).map(Double.init)
        let cubed = x.map { $0 * $0 * $0 }
        XCTAssertEqual(try XCTUnwrap(Correlation.spearman(x, cubed)), 1, accuracy: 1e-15)
        XCTAssertEqual(try XCTUnwrap(Correlation.kendallTauB(x, cubed)), 1, accuracy: 1e-15)
        XCTAssertEqual(try XCTUnwrap(Correlation.pearson(x, x.map { 3 * $0 - 7 })), 1, accuracy: 1e-15)
        let reversed = cubed.map { -$0 }
        XCTAssertEqual(try XCTUnwrap(Correlation.spearman(x, reversed)), -1, accuracy: 1e-15)
        XCTAssertEqual(try XCTUnwrap(Correlation.kendallTauB(x, reversed)), -1, accuracy: 1e-15)
        XCTAssertEqual(try XCTUnwrap(Correlation.pearson(x, x.map { 2 - 0.5 * $0 })), -1, accuracy: 1e-15)
    }

    func testUndefinedCasesAreNil() {
        for coefficient in [Correlation.pearson, Correlation.spearman, Correlation.kendallTauB] {
            XCTAssertNil(coefficient([1, 2, 3], [1, 2]), "lengths differ")
            XCTAssertNil(coefficient([0.1, 0.1, 0.1], [1, 2, 3]), "constant x")
            XCTAssertNil(coefficient([5], [6]), "one pair")
            XCTAssertNil(coefficient([.nan, 1, 2], [1, .nan, 3]), "one pair left after dropping NaN")
            XCTAssertNotNil(coefficient([.nan, 1, 2, 4], [1, 5, 3, 3.5]))
        }
    }

    /// Knight's algorithm against the definition (every pair compared) on random data with ties.
    func testKendallMatchesTheQuadraticDefinition() throws {
        var generator = SplitMix64(seed: 11)
        for trial in 0..<20 {
            let n = 2 + generator.uniform(below: 120)
            let levels = 1 + generator.uniform(below: 8)
            let x = (0..<n).map { _ in Double(generator.uniform(below: levels)) }
            let y = (0..<n).map { _ in Double(generator.uniform(below: 5)) }
            let expected = Self.kendallTauBByPairs(x, y)
            XCTAssertEqual(Correlation.kendallTauB(x, y) == nil, expected == nil, "trial \(trial)")
            if let expected { XCTAssertEqual(try XCTUnwrap(Correlation.kendallTauB(x, y)), expected, accuracy: 1e-14, "trial \(trial)") }
        }
    }

    /// Not asserted: the time per coefficient at the sizes the analyzer uses.
    func testPrintsTheTimePerCoefficient() {
        var generator = SplitMix64(seed: 3)
        for n in [1024, 5000] {
            let x = (0..<n).map { _ in Double(generator.uniform(below: 200)) }
            let y = (0..<n).map { _ in Double(generator.uniform(below: 200)) }
            let repeats = 20
            for (name, coefficient) in [("pearson", Correlation.pearson), ("spearman", Correlation.spearman),
                                        ("kendall tau-b", Correlation.kendallTauB)] {
                let start = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<repeats { _ = coefficient(x, y) }
                let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6 / Double(repeats)
                print("\(name) n=\(n): \(String(format: "%.3f", milliseconds)) ms")
            }
        }
    }

    private static func kendallTauBByPairs(_ x: [Double], _ y: [Double]) -> Double? {
        var concordantMinusDiscordant = 0, untiedX = 0, untiedY = 0
        for i in x.indices {
            for j in (i + 1)..<x.count {
                let dx = x[i] < x[j] ? -1 : (x[i] > x[j] ? 1 : 0)
                let dy = y[i] < y[j] ? -1 : (y[i] > y[j] ? 1 : 0)
                concordantMinusDiscordant += dx * dy
                if dx != 0 { untiedX += 1 }
                if dy != 0 { untiedY += 1 }
            }
        }
        guard untiedX > 0, untiedY > 0 else { return nil }
        return Double(concordantMinusDiscordant) / (Double(untiedX) * Double(untiedY)).squareRoot()
    }
}
