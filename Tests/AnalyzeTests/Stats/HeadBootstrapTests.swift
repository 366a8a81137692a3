import Analyze
import Dispatch
import Shared
import XCTest

/// The per-head bootstrap: its top-set frequencies and intervals against a direct recomputation
/// and known cases, its NaN handling, and its independence of the thread count.
final class HeadBootstrapTests: XCTestCase {
    private var savedThreads = ComputeThreads.count

    override func setUp() { savedThreads = ComputeThreads.count }
    override func tearDown() { ComputeThreads.set(savedThreads) }

    /// scores: [prompt, head], uniform in [0, 1), with NaN at the given share.
    private static func randomScores(prompts: Int, heads: Int, seed: UInt64, nanShare: Double = 0) -> [Double] {
        var generator = SplitMix64(seed: seed)
        return (0..<(prompts * heads)).map { _ in
            let value = Double(generator.next() >> 11) / 9_007_199_254_740_992
            return Double(generator.next() >> 11) / 9_007_199_254_740_992 < nanShare ? .nan : value
        }
    }

    func testAHeadWithAConstantLargeScoreIsAlwaysSelected() throws {
        let prompts = 60, heads = 48
        var scores = Self.randomScores(prompts: prompts, heads: heads, seed: 1)
        for p in 0..<prompts { scores[p * heads + 17] = 10 }
        let result = HeadBootstrap(scores: scores, prompts: prompts, heads: heads, replicates: 400, seed: 3, topCount: 3)
        XCTAssertEqual(result.topFrequency[17], 1)
        XCTAssertEqual(result.intervals[17], ConfidenceInterval(lower: 10, upper: 10))
        XCTAssertEqual(result.topFrequency.reduce(0, +), 3, accuracy: 1e-12, "every replicate selects 3 heads")
        XCTAssertTrue(result.topFrequency.enumerated().allSatisfy { $0.offset == 17 || $0.element < 1 })
    }

    func testIntervalsContainTheFullSampleMean() throws {
        let prompts = 100, heads = 64
        let scores = Self.randomScores(prompts: prompts, heads: heads, seed: 2, nanShare: 0.1)
        let result = HeadBootstrap(scores: scores, prompts: prompts, heads: heads, replicates: 500, seed: 4, topCount: 2)
        for h in 0..<heads {
            let column = (0..<prompts).map { scores[$0 * heads + h] }
            let mean = try XCTUnwrap(Summary.mean(column))
            XCTAssertEqual(result.means[h], mean, accuracy: 1e-12, "head \(h)")
            let interval = try XCTUnwrap(result.intervals[h], "head \(h)")
            XCTAssertTrue(interval.contains(mean), "head \(h): \(interval) vs mean \(mean)")
            // Uniform scores: sd 0.29, so the 95% interval of a mean of ~90 is about 0.12 wide.
            XCTAssertEqual(interval.width, 2 * 1.96 * 0.2887 / 90.0.squareRoot(), accuracy: 0.04, "head \(h)")
        }
    }

    /// The bootstrap recomputed independently: draws in order, plain sums in draw order, and a
    /// full sort for the top set. Returns each head's top-set frequency and interval.
    private static func directRecomputation(_ scores: [Double], prompts: Int, heads: Int, replicates: Int, seed: UInt64,
                                            topCount: Int) -> (topFrequency: [Double], intervals: [ConfidenceInterval]) {
        var inTop = [Int](repeating: 0, count: heads)
        var replicateMeans = [[Double]](repeating: [], count: heads)   // [head][replicate]
        for r in 0..<replicates {
            var draw = SplitMix64(seed: SplitMix64.derive(seed, UInt64(r)))
            let chosen = (0..<prompts).map { _ in draw.uniform(below: prompts) }
            let means = (0..<heads).map { h -> Double in
                let defined = chosen.map { scores[$0 * heads + h] }.filter { !$0.isNaN }
                return defined.isEmpty ? .nan : defined.reduce(0, +) / Double(defined.count)
            }
            for h in Ranking.topIndices(means, count: topCount) where !means[h].isNaN { inTop[h] += 1 }
            for h in 0..<heads where !means[h].isNaN { replicateMeans[h].append(means[h]) }
        }
        // The interval's quantiles are at (1 ∓ confidence) / 2, computed in Double.
        let (lowerQ, upperQ) = ((1 - 0.95) / 2, (1 + 0.95) / 2)
        return (inTop.map { Double($0) / Double(replicates) },
                replicateMeans.map { ConfidenceInterval(lower: Summary.quantile($0, lowerQ) ?? .nan, upper: Summary.quantile($0, upperQ) ?? .nan) })
    }

    /// Integer scores make every sum exact in any order, so replicate means and their ties match
    /// the direct recomputation exactly.
    func testAgreesWithADirectRecomputationIncludingTiesAndNaN() {
        let prompts = 30, heads = 20, replicates = 200, topCount = 4, seed: UInt64 = 99
        var generator = SplitMix64(seed: 8)
        let scores = (0..<(prompts * heads)).map { _ in generator.uniform(below: 12) == 0 ? Double.nan : Double(generator.uniform(below: 3)) }
        let result = HeadBootstrap(scores: scores, prompts: prompts, heads: heads, replicates: replicates,
                                   seed: seed, topCount: topCount)
        let expected = Self.directRecomputation(scores, prompts: prompts, heads: heads, replicates: replicates, seed: seed,
                                                topCount: topCount)
        XCTAssertEqual(result.topFrequency, expected.topFrequency)
        for h in 0..<heads { XCTAssertEqual(result.intervals[h], expected.intervals[h], "head \(h)") }
    }

    /// Continuous scores: the matrix product's sums round differently from sums in draw order,
    /// by a few units of the last place: within 1e-13 for means of 75 values below 1.
    func testContinuousScoresAgreeWithADirectRecomputationToRounding() throws {
        let prompts = 75, heads = 24, replicates = 300, topCount = 3, seed: UInt64 = 21
        let scores = Self.randomScores(prompts: prompts, heads: heads, seed: 12, nanShare: 0.1)
        let result = HeadBootstrap(scores: scores, prompts: prompts, heads: heads, replicates: replicates,
                                   seed: seed, topCount: topCount)
        let expected = Self.directRecomputation(scores, prompts: prompts, heads: heads, replicates: replicates, seed: seed,
                                                topCount: topCount)
        XCTAssertEqual(result.topFrequency, expected.topFrequency)
        for h in 0..<heads {
            let interval = try XCTUnwrap(result.intervals[h])
            XCTAssertEqual(interval.lower, expected.intervals[h].lower, accuracy: 1e-13, "head \(h)")
            XCTAssertEqual(interval.upper, expected.intervals[h].upper, accuracy: 1e-13, "head \(h)")
        }
    }

    func testUndefinedScoresAreSkipped() throws {
        let prompts = 40, heads = 6
        var scores = Self.randomScores(prompts: prompts, heads: heads, seed: 5)
        for p in 0..<prompts {
            scores[p * heads + 2] = .nan                    // never defined
            scores[p * heads + 4] = p == 0 ? 100 : .nan     // defined on prompt 0 only
        }
        let result = HeadBootstrap(scores: scores, prompts: prompts, heads: heads, replicates: 1000, seed: 6, topCount: 1)
        XCTAssertTrue(result.means[2].isNaN)
        XCTAssertNil(result.intervals[2])
        XCTAssertEqual(result.topFrequency[2], 0)
        XCTAssertEqual(result.means[4], 100)
        XCTAssertEqual(result.intervals[4], ConfidenceInterval(lower: 100, upper: 100))
        // Head 4 tops exactly the replicates that draw prompt 0: 1 - (1 - 1/40)^40 = 0.637 of them.
        XCTAssertEqual(result.topFrequency[4], 1 - pow(1 - 1 / 40.0, 40), accuracy: 0.05)
        XCTAssertEqual(result.topFrequency.reduce(0, +), 1, accuracy: 1e-12)
    }

    func testResultDoesNotDependOnTheThreadCount() {
        let prompts = 50, heads = 128
        let scores = Self.randomScores(prompts: prompts, heads: heads, seed: 7, nanShare: 0.05)
        func run() -> HeadBootstrap {
            HeadBootstrap(scores: scores, prompts: prompts, heads: heads, replicates: 203, seed: 17, topCount: 5)
        }
        ComputeThreads.set(1)
        let single = run()
        ComputeThreads.set(2)
        let two = run()
        XCTAssertEqual(single.topFrequency, two.topFrequency)
        XCTAssertEqual(single.intervals, two.intervals)
        XCTAssertEqual(single.means.map(\.bitPattern), two.means.map(\.bitPattern))
        XCTAssertNotEqual(run().intervals, HeadBootstrap(scores: scores, prompts: prompts, heads: heads,
                                                         replicates: 203, seed: 18, topCount: 5).intervals)
    }

    /// Not asserted: 1000 replicates × 100 prompts × 1024 heads on one thread (meaningful in release).
    func testPrintsTheTimeForTheAnalyzersSize() throws {
        #if DEBUG
        let isRelease = false
        #else
        let isRelease = true
        #endif
        try XCTSkipUnless(isRelease, "timed in release builds only")
        let prompts = 100, heads = 1024, replicates = 1000
        let scores = Self.randomScores(prompts: prompts, heads: heads, seed: 13)
        for threads in [1, ComputeThreads.count > 1 ? savedThreads : 1] {
            ComputeThreads.set(threads)
            let start = DispatchTime.now().uptimeNanoseconds
            let result = HeadBootstrap(scores: scores, prompts: prompts, heads: heads, replicates: replicates,
                                       seed: 1, topCount: Ranking.topCount(fraction: 0.03, of: heads))
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            XCTAssertEqual(result.topFrequency.reduce(0, +), 30, accuracy: 1e-9)
            print("HeadBootstrap \(replicates) replicates × \(prompts) prompts × \(heads) heads, top 30, \(threads) thread(s): \(String(format: "%.3f", seconds)) s")
        }
    }
}
