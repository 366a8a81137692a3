import Foundation
import TestSupport
import XCTest

/// The fixtures of reference/make_stats_fixtures.py (Tests/Fixtures/stats/), where null stands
/// for NaN in inputs and for an undefined expected value.
enum StatsFixtures {
    struct CorrelationCase: Decodable {
        let name: String
        let x: [Double?]
        let y: [Double?]
        let pearson: Double?
        let spearman: Double?
        let kendallTauB: Double?

        private enum CodingKeys: String, CodingKey {
            case name, x, y, pearson, spearman
            case kendallTauB = "kendall_b"
        }
    }

    struct RanksCase: Decodable {
        let name: String
        let x: [Double?]
        let ranks: [Double?]
    }

    struct QuantileCase: Decodable {
        let name: String
        let values: [Double?]
        let q: [Double]
        let quantiles: [Double?]
        let mean: Double?
    }

    struct WilsonCase: Decodable {
        let successes: Int
        let trials: Int
        let confidence: Double
        let lower: Double
        let upper: Double
    }

    private struct Cases<Case: Decodable>: Decodable {
        let cases: [Case]
    }

    static func load<Case: Decodable>(_ file: String, as: Case.Type) throws -> [Case] {
        let data = try Data(contentsOf: Fixtures.url("stats/\(file)"))
        return try JSONDecoder().decode(Cases<Case>.self, from: data).cases
    }
}

extension Array where Element == Double? {
    /// null as NaN.
    var withNaN: [Double] { map { $0 ?? .nan } }
}

/// Asserts that `actual` and `expected` are both undefined or both defined and within `tolerance`,
/// and returns the absolute difference (0 when both are undefined) for the caller's summary.
@discardableResult
func assertMatches(_ actual: Double?, _ expected: Double?, tolerance: Double, _ label: String,
                   file: StaticString = #filePath, line: UInt = #line) -> Double {
    switch (actual, expected) {
    case (nil, nil):
        return 0
    case let (actual?, expected?):
        let difference = abs(actual - expected)
        XCTAssertLessThanOrEqual(difference, tolerance, "\(label): \(actual) vs reference \(expected)", file: file, line: line)
        return difference
    default:
        XCTFail("\(label): \(String(describing: actual)) vs reference \(String(describing: expected))", file: file, line: line)
        return .infinity
    }
}
