import Analyze
import Foundation
import Shared
import TestSupport
import XCTest

/// `icl-analyze report --per-prompt` on a synthetic dump: per_prompt/SET.csv has one row per
/// done prompt and head, in the dump's prompt order, and its values average to heads.csv's
/// means (recomputed here from the CSV); summary.json lists the files.
final class PerPromptReportTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("per-prompt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    private func report(_ dump: String, _ name: String, _ extra: [String]) throws -> String {
        let out = path(name)
        let result = try CommandLineTool.run("icl-analyze", ["report", dump, "--out", out, "--random-sets", "2"] + extra)
        XCTAssertEqual(result.status, 0, result.standardError)
        return out
    }

    private func summary(_ report: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: report + "/summary.json"))
        let document = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try XCTUnwrap(document["perPrompt"] as? [String: Any], "summary.json has no perPrompt")
    }

    /// Equal within the nine significant digits heads.csv is written with.
    private func assertSameMean(_ recomputed: Double, _ written: Double, _ what: @autoclosure () -> String) {
        if recomputed.isNaN || written.isNaN {
            XCTAssertTrue(recomputed.isNaN && written.isNaN, "\(what()): \(recomputed) vs \(written)")
        } else {
            XCTAssertEqual(recomputed, written, accuracy: 1e-8 * max(abs(written), 1e-6), what())
        }
    }

    func testPerPromptRowsAverageToTheHeadsTable() throws {
        let dump = path("d.h5")
        let spec = SyntheticReportTests.spec()
        try SyntheticDump.write(spec, to: dump)
        let out = try report(dump, "report", ["--per-prompt"])
        let heads = SyntheticReportTests.model.layers * SyntheticReportTests.model.heads
        let headsTable = try ReportCSV(out + "/heads.csv"), setsTable = try ReportCSV(out + "/sets.csv")
        let capture = try ShardedDump(paths: [dump])
        let entry = try summary(out)
        XCTAssertEqual(entry["written"] as? Bool, true)
        XCTAssertEqual(entry["files"] as? [String], capture.setNames.map { "per_prompt/\($0).csv" })
        let valueColumns = ["tr", "tl", "dla_gold", "dla_margin", "attn_demo_outputs", "attn_demo_inputs", "attn_query",
                            "attn_template", "attn_special"]
        let meanColumns = ["tr_score", "tl_score"] + valueColumns.dropFirst(2)
        for set in capture.setNames {
            let table = try ReportCSV(out + "/per_prompt/\(set).csv")
            XCTAssertEqual(table.header, entry["columns"] as? [String])
            let rows = try SetRows(dump: capture, set: set)
            XCTAssertEqual(table.rows.count, rows.count * heads, set)
            // Prompt-major, heads in (layer, head) order within a prompt, prompt_index the dump's.
            XCTAssertEqual(try table.integers("prompt_index"), rows.promptIndex.flatMap { Array(repeating: Int($0), count: heads) }, set)
            XCTAssertEqual(try table.integers("layer"), Array((0..<rows.count).map { _ in (0..<heads).map { $0 / SyntheticReportTests.model.heads } }.joined()))
            XCTAssertEqual(try table.integers("head"), Array((0..<rows.count).map { _ in (0..<heads).map { $0 % SyntheticReportTests.model.heads } }.joined()))
            XCTAssertEqual(Set(try table.texts("set")), [set])
            let written = try headsTable.filtered("set", set)
            for (value, mean) in zip(valueColumns, meanColumns) {
                let values = try table.floats(value), means = try written.numbers(mean)
                for j in 0..<heads {
                    let column = (0..<rows.count).map { values[$0 * heads + j] }.filter { !$0.isNaN }
                    let recomputed = column.isEmpty ? Double.nan : column.reduce(0, +) / Double(column.count)
                    assertSameMean(recomputed, means[j], "\(set) \(value) head \(j)")
                }
            }
            let tl = try table.floats("tl"), undefined = try written.integers("tl_undefined_prompts")
            for j in 0..<heads {
                XCTAssertEqual((0..<rows.count).filter { tl[$0 * heads + j].isNaN }.count, undefined[j], "\(set) head \(j)")
            }
            // The prompt's own outcome, on every row of the prompt.
            let firstRows = stride(from: 0, to: table.rows.count, by: heads)
            let logprob = try table.floats("gold_logprob")
            XCTAssertEqual(firstRows.map { Float(logprob[$0]) }, rows.goldLogprob, set)
            let correct = try table.integers("correct"), labelCorrect = try table.integers("label_correct")
            XCTAssertEqual(firstRows.map { correct[$0] }, (0..<rows.count).map { rows.argmax[$0] == rows.goldToken[$0] ? 1 : 0 }, set)
            let behaviour = try setsTable.filtered("set", set)
            XCTAssertEqual(Double(firstRows.map { labelCorrect[$0] }.reduce(0, +)) / Double(rows.count),
                           try behaviour.numbers("label_accuracy")[0], accuracy: 1e-9, set)
            XCTAssertEqual(Double(firstRows.map { correct[$0] }.reduce(0, +)) / Double(rows.count),
                           try behaviour.numbers("accuracy")[0], accuracy: 1e-9, set)
        }
        let topic = try XCTUnwrap(capture.setNames.first { $0.hasPrefix("topic.") })
        XCTAssertFalse(try ReportCSV(out + "/per_prompt/\(topic).csv").integers("prompt_index").contains(3), "the undone prompt has no rows")
        XCTAssertTrue(try String(contentsOfFile: out + "/index.html", encoding: .utf8).contains("per_prompt/"))
    }

    func testPerPromptFilesAreWrittenOnlyWhenAskedFor() throws {
        let dump = path("d.h5")
        try SyntheticDump.write(SyntheticReportTests.spec(), to: dump)
        let out = try report(dump, "report", [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/per_prompt"))
        let entry = try summary(out)
        XCTAssertEqual(entry["written"] as? Bool, false)
        XCTAssertEqual(entry["files"] as? [String], [])
    }
}
