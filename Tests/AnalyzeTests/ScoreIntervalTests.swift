import Analyze
import Foundation
import Shared
import TestSupport
import XCTest

/// heads.csv's bootstrap intervals of every per-head mean (docs/methods.md §12): each contains
/// its mean, they narrow as the set grows, and the top-set frequencies add up to the top sets'
/// size.
final class ScoreIntervalTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("score-intervals-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    /// Mean column and the prefix of its interval columns.
    static let scores = [("tr_score", "tr"), ("tl_score", "tl"), ("dla_gold", "dla_gold"), ("dla_margin", "dla_margin"),
                         ("attn_demo_outputs", "attn_demo_outputs"), ("attn_demo_inputs", "attn_demo_inputs"),
                         ("attn_query", "attn_query"), ("attn_template", "attn_template"), ("attn_special", "attn_special")]

    /// heads.csv of a two-set dump whose sets have `prompts` prompts each.
    private func headsTable(prompts: Int) throws -> ReportCSV {
        let spec = SyntheticDumpSpec(model: SyntheticReportTests.model, seed: 11, sets: [
            SyntheticSetSpec(task: "sentiment", promptCount: prompts, tokens: 40...48, labelCount: 2),
            SyntheticSetSpec(task: "topic", promptCount: prompts, tokens: 40...48, labelCount: 4),
        ])
        let dump = directory.appendingPathComponent("d\(prompts).h5").path, out = directory.appendingPathComponent("r\(prompts)").path
        try SyntheticDump.write(spec, to: dump)
        let result = try CommandLineTool.run("icl-analyze", ["report", dump, "--out", out, "--random-sets", "0"])
        XCTAssertEqual(result.status, 0, result.standardError)
        return try ReportCSV(out + "/heads.csv")
    }

    private static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? .nan : (sorted[(sorted.count - 1) / 2] + sorted[sorted.count / 2]) / 2
    }

    func testIntervalsContainTheirMeansAndNarrowWithMorePrompts() throws {
        let small = try headsTable(prompts: 30), large = try headsTable(prompts: 240)
        for (mean, prefix) in Self.scores {
            var widths: [[Double]] = []
            for table in [small, large] {
                let means = try table.numbers(mean)
                let low = try table.numbers(prefix + "_ci_low"), high = try table.numbers(prefix + "_ci_high")
                for (row, m) in means.enumerated() where !m.isNaN {
                    XCTAssertTrue(low[row] <= m && m <= high[row], "\(mean) row \(row): \(m) outside [\(low[row]), \(high[row])]")
                }
                widths.append(zip(low, high).map { $1 - $0 }.filter { !$0.isNaN })
            }
            // Eight times the prompts: about a third of the width (1 / sqrt(8)); at least some narrowing.
            let ratio = Self.median(widths[1]) / Self.median(widths[0])
            XCTAssertLessThan(ratio, 0.6, "\(mean): median interval width \(Self.median(widths[0])) -> \(Self.median(widths[1]))")
            XCTAssertGreaterThan(ratio, 0.15, "\(mean): narrower than sampling allows")
        }
    }

    func testTopSetFrequenciesAddUpToTheTopSetSize() throws {
        let table = try headsTable(prompts: 30)
        let k = Double(Ranking.topCount(fraction: 0.03, of: SyntheticReportTests.model.layers * SyntheticReportTests.model.heads))
        for set in Set(try table.texts("set")) {
            let rows = try table.filtered("set", set)
            // TR and DLA are defined for every head and prompt: each replicate selects k heads.
            for column in ["top_tr_frequency", "top_dla_gold_frequency"] {
                XCTAssertEqual(try rows.numbers(column).reduce(0, +), k, accuracy: 1e-9, "\(set) \(column)")
            }
            let dla = try rows.numbers("dla_gold"), frequency = try rows.numbers("top_dla_gold_frequency")
            let best = try XCTUnwrap(dla.indices.max { dla[$0] < dla[$1] })
            XCTAssertEqual(frequency[best], frequency.max(), "\(set): the head with the largest dla_gold is selected most often")
        }
    }
}
