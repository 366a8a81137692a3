import Analyze
import Foundation
import Shared
import XCTest

/// Wilson intervals against statsmodels (Tests/Fixtures/stats/wilson.json); the bootstrap interval
/// of the mean by its coverage, since its random draws cannot match numpy's.
final class IntervalTests: XCTestCase {
    func testWilsonAgreesWithStatsmodels() throws {
        let cases = try StatsFixtures.load("wilson.json", as: StatsFixtures.WilsonCase.self)
        XCTAssertGreaterThanOrEqual(cases.count, 48)
        var worst = 0.0
        for c in cases {
            let label = "\(c.successes)/\(c.trials) at \(c.confidence)"
            let interval = try XCTUnwrap(Interval.wilson(successes: c.successes, trials: c.trials, confidence: c.confidence), label)
            worst = max(worst, assertMatches(interval.lower, c.lower, tolerance: 1e-13, label + " lower"))
            worst = max(worst, assertMatches(interval.upper, c.upper, tolerance: 1e-13, label + " upper"))
        }
        print("wilson vs statsmodels over \(cases.count) cases: max |diff| \(worst)")
    }

    func testWilsonIsNilWithoutTrialsOrWithImpossibleCounts() {
        XCTAssertNil(Interval.wilson(successes: 0, trials: 0))
        XCTAssertNil(Interval.wilson(successes: 4, trials: 3))
        XCTAssertNil(Interval.wilson(successes: -1, trials: 3))
        XCTAssertNil(Interval.wilson(successes: 1, trials: 3, confidence: 1))
        XCTAssertNotNil(Interval.wilson(successes: 1, trials: 3))
    }

    /// 200 normal samples of 50: the 95% percentile interval covers the true mean 90-99% of the
    /// time (it is known to run slightly below nominal at this n), and intervals from samples four
    /// times larger are about half as wide.
    func testBootstrapMeanCoversTheTrueMeanAndShrinksLikeOneOverRootN() throws {
        var generator = SplitMix64(seed: 2024)
        let trueMean = 1.5, samples = 200
        var covered = 0
        var meanWidth50 = 0.0, meanWidth200 = 0.0
        for trial in 0..<samples {
            let small = (0..<50).map { _ in trueMean + 2 * Self.standardNormal(&generator) }
            let large = (0..<200).map { _ in trueMean + 2 * Self.standardNormal(&generator) }
            let interval50 = try XCTUnwrap(Interval.bootstrapMean(small, replicates: 1000, seed: UInt64(trial)))
            let interval200 = try XCTUnwrap(Interval.bootstrapMean(large, replicates: 1000, seed: UInt64(trial)))
            XCTAssertLessThan(interval50.lower, interval50.upper)
            if interval50.contains(trueMean) { covered += 1 }
            meanWidth50 += interval50.width / Double(samples)
            meanWidth200 += interval200.width / Double(samples)
        }
        let coverage = Double(covered) / Double(samples)
        let ratio = meanWidth50 / meanWidth200
        print("bootstrap mean, n=50: coverage \(coverage) over \(samples) samples; mean width n=50 \(meanWidth50), n=200 \(meanWidth200), ratio \(ratio) (1/sqrt(n) predicts 2)")
        XCTAssertGreaterThanOrEqual(coverage, 0.90)
        XCTAssertLessThanOrEqual(coverage, 0.99)
        XCTAssertEqual(ratio, 2, accuracy: 0.2)
        // The width expected for normal data: 2 × 1.96 σ / sqrt(n), with σ = 2.
        XCTAssertEqual(meanWidth50, 2 * 1.96 * 2 / 50.0.squareRoot(), accuracy: 0.1 * meanWidth50)
    }

    func testBootstrapMeanIsReproducibleAndSkipsNaN() throws {
        let values: [Double] = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5]
        let a = try XCTUnwrap(Interval.bootstrapMean(values, replicates: 500, seed: 7))
        XCTAssertEqual(Interval.bootstrapMean(values, replicates: 500, seed: 7), a)
        XCTAssertNotEqual(Interval.bootstrapMean(values, replicates: 500, seed: 8), a)
        XCTAssertEqual(Interval.bootstrapMean(values + [.nan, .nan], replicates: 500, seed: 7), a)
        XCTAssertNil(Interval.bootstrapMean([.nan], replicates: 500, seed: 7))
        XCTAssertNil(Interval.bootstrapMean(values, replicates: 0, seed: 7))
        let constant = try XCTUnwrap(Interval.bootstrapMean([2.5, 2.5, 2.5], replicates: 100, seed: 1))
        XCTAssertEqual(constant, ConfidenceInterval(lower: 2.5, upper: 2.5))
    }

    /// Box–Muller from two uniforms in (0, 1].
    static func standardNormal(_ generator: inout SplitMix64) -> Double {
        let u1 = Double((generator.next() >> 11) + 1) / 9_007_199_254_740_992
        let u2 = Double(generator.next() >> 11) / 9_007_199_254_740_992
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}
