import Capture
import Foundation
import Shared
import XCTest

final class LogitStatisticsTests: XCTestCase {
    /// The one-pass top-k against its definition: a full sort, larger first, lower index on ties.
    func testTopIndicesEqualTheSortedOrderWithTiesByIndex() {
        var random = SplitMix64(seed: 21)
        for trial in 0..<50 {
            // Few distinct values, so ties are common; a slice, so indices start elsewhere.
            let values = (0..<(trial + 30)).map { _ in Float(random.uniform(below: 7)) - 3 }
            let logits = ([Float(99)] + values)[1...]
            let expected = logits.indices.sorted { logits[$0] != logits[$1] ? logits[$0] > logits[$1] : $0 < $1 }
                .map { $0 - logits.startIndex }
            for k in [1, 5, 10, values.count, values.count + 3] {
                XCTAssertEqual(LogitStatistics.topIndices(logits, count: k), Array(expected.prefix(k)), "trial \(trial) k \(k)")
            }
        }
    }

    func testLogSumExpMatchesTheDirectSumAndSurvivesLargeLogits() {
        let logits: [Float] = [1, 2, 3, -4]
        XCTAssertEqual(LogitStatistics.logSumExp(logits[...]), log(logits.reduce(0.0) { $0 + exp(Double($1)) }), accuracy: 1e-12)
        XCTAssertEqual(LogitStatistics.logSumExp([1000, 1000][...]), 1000 + log(2.0), accuracy: 1e-9)
    }
}
