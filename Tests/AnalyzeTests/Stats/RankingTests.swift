import Analyze
import Shared
import XCTest

/// Average ranks against scipy.stats.rankdata (Tests/Fixtures/stats/ranks.json), top-k order and
/// the top-fraction count.
final class RankingTests: XCTestCase {
    func testRanksAgreeWithScipy() throws {
        let cases = try StatsFixtures.load("ranks.json", as: StatsFixtures.RanksCase.self)
        XCTAssertGreaterThanOrEqual(cases.count, 8)
        for c in cases {
            let ranks = Ranking.ranks(c.x.withNaN)
            XCTAssertEqual(ranks.count, c.ranks.count, c.name)
            for (i, (actual, expected)) in zip(ranks, c.ranks).enumerated() {
                // Average ranks are halves of integers: exact.
                assertMatches(actual.isNaN ? nil : actual, expected, tolerance: 0, "\(c.name)[\(i)]")
            }
        }
    }

    func testTopIndicesAreDescendingWithTiesByIndexAndNeverNaN() {
        let scores: [Double] = [0.5, .nan, 2, 0.5, -1, 2, .nan, 3]
        XCTAssertEqual(Ranking.topIndices(scores, count: 3), [7, 2, 5])
        XCTAssertEqual(Ranking.topIndices(scores, count: 5), [7, 2, 5, 0, 3])
        XCTAssertEqual(Ranking.topIndices(scores, count: 100), [7, 2, 5, 0, 3, 4])
        XCTAssertEqual(Ranking.topIndices([.nan, .nan], count: 1), [])
        XCTAssertEqual(Ranking.topIndices(scores, count: 0), [])
        XCTAssertEqual(Ranking.topIndices(scores, count: -2), [])
        XCTAssertEqual(Ranking.topIndices([], count: 3), [])
    }

    func testTopIndicesAreTheHeadOfAFullDescendingSort() {
        var generator = SplitMix64(seed: 5)
        let scores = (0..<1024).map { _ in generator.uniform(below: 50) == 0 ? Double.nan : Double(generator.uniform(below: 100)) }
        let stableDescending = scores.indices.filter { !scores[$0].isNaN }.sorted {
            scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1
        }
        XCTAssertEqual(Ranking.topIndices(scores, count: 30), Array(stableDescending.prefix(30)))
    }

    func testTopCountIsTheFlooredFractionAndAtLeastOne() {
        XCTAssertEqual(Ranking.topCount(fraction: 0.03, of: 1024), 30)
        XCTAssertEqual(Ranking.topCount(fraction: 0.03, of: 288), 8)        // 8.64
        XCTAssertEqual(Ranking.topCount(fraction: 0.03, of: 20), 1)         // 0.6, raised to 1
        XCTAssertEqual(Ranking.topCount(fraction: 0.29, of: 100), 29)       // 28.999999999999996 in Double
        XCTAssertEqual(Ranking.topCount(fraction: 0.07, of: 100), 7)
        XCTAssertEqual(Ranking.topCount(fraction: 0.2, of: 1024), 204)      // 204.8
        XCTAssertEqual(Ranking.topCount(fraction: 1, of: 1024), 1024)
        XCTAssertEqual(Ranking.topCount(fraction: 2, of: 10), 10)
        XCTAssertEqual(Ranking.topCount(fraction: 0, of: 10), 1)
        XCTAssertEqual(Ranking.topCount(fraction: -1e300, of: 10), 1)
        XCTAssertEqual(Ranking.topCount(fraction: .nan, of: 10), 1)
        XCTAssertEqual(Ranking.topCount(fraction: .infinity, of: 10), 10)
        XCTAssertEqual(Ranking.topCount(fraction: 0.03, of: 0), 0)
    }
}
