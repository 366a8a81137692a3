import Analyze
import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// The analyzer on synthetic dumps (TestSupport/SyntheticDump): heads planted with known
/// behaviour are found, shards give the whole capture's report, a 1.0 dump gives the 1.1
/// dump's scores, the self-check passes, and the report opens in a real browser.
final class SyntheticReportTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("synthetic-report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static let model = SyntheticModelSpec(layers: 6, heads: 8, kvHeads: 4, dHead: 8, dModel: 32, vocabulary: 512)

    static func spec(shard: Shard = .whole, version: String = DumpFormat.version,
                     activation: CaptureConfiguration.ActivationType = .f32) -> SyntheticDumpSpec {
        SyntheticDumpSpec(model: model, activationType: activation, shard: shard, formatVersion: version, seed: 7, sets: [
            SyntheticSetSpec(task: "sentiment", promptCount: 40, tokens: 40...48, labelCount: 2),
            SyntheticSetSpec(task: "sentiment", variant: "shuffled_labels", promptCount: 40, tokens: 40...48, labelCount: 2),
            SyntheticSetSpec(task: "topic", promptCount: 40, tokens: 40...48, labelCount: 4, undonePrompts: [3]),
            SyntheticSetSpec(task: "capital", kind: .open, promptCount: 30, tokens: 40...48, labelCount: 12),
        ], probe: SyntheticProbeSpec(sequences: 4, repeatLength: 12))
    }

    private func report(_ dumps: [String], _ name: String, _ extra: [String] = []) throws -> String {
        let out = path(name)
        let result = try CommandLineTool.run("icl-analyze", ["report"] + dumps + ["--out", out, "--random-sets", "20"] + extra)
        XCTAssertEqual(result.status, 0, result.standardError)
        return out
    }

    func testPlantedHeadsAreFound() throws {
        let dump = path("d.h5")
        try SyntheticDump.write(Self.spec(), to: dump)
        let planted = SyntheticDump.plantedHeads(of: Self.spec())
        let analysis = try DumpAnalysis(dump: try ShardedDump(paths: [dump]), options: AnalysisOptions())
        let induction = try XCTUnwrap(analysis.induction)
        let k = planted.induction.count
        let topInduction = Set(Ranking.topIndices(induction.stripe, count: k).map { HeadID(index: $0, heads: Self.model.heads) })
        XCTAssertEqual(topInduction, Set(planted.induction.map { HeadID(layer: $0.layer, head: $0.head) }))
        let topPrevious = Set(Ranking.topIndices(induction.previousToken, count: planted.previousToken.count).map { HeadID(index: $0, heads: Self.model.heads) })
        XCTAssertEqual(topPrevious, Set(planted.previousToken.map { HeadID(layer: $0.layer, head: $0.head) }))
        for head in planted.induction {
            XCTAssertGreaterThan(induction.stripe[head.layer * Self.model.heads + head.head], 0.5, "\(head)")
            // detect_head 'mul' gives a perfect head about half the stripe score: no target in the first repeat.
            XCTAssertLessThan(induction.detectHeadMul[head.layer * Self.model.heads + head.head], 0.55, "\(head)")
        }
        let clean = try XCTUnwrap(analysis.sets.first { $0.info.name == "sentiment.clean.k4.qa" })
        let labelHeads = planted.label.map { HeadID(layer: $0.layer, head: $0.head) }
        let dla = clean.scores.meanDLAGold
        let topDLA = Ranking.topIndices(dla, count: labelHeads.count).map { HeadID(index: $0, heads: Self.model.heads) }
        XCTAssertEqual(Set(topDLA), Set(labelHeads), "the planted label heads have the largest direct effect on the gold logit")
        // Removing them costs more label accuracy than removing any of the random sets of that size would.
        let zero = try XCTUnwrap(clean.ablation.first { $0.headSet == "top_tr" && $0.mode == "zero" })
        let baseline = try XCTUnwrap(clean.ablation.first { $0.kind == "baseline" })
        XCTAssertLessThanOrEqual(zero.goldLogit, baseline.goldLogit)
        XCTAssertLessThan(clean.scores.componentError / clean.scores.logitScale, 1e-5)
        // The 1.1 dump's own projections equal the analyzer's.
        XCTAssertEqual(clean.scores.prompts, 40)
        XCTAssertEqual(analysis.sets.first { $0.info.task == "topic" }?.scores.prompts, 39, "the undone prompt is left out")
        XCTAssertEqual(analysis.sets.first { $0.info.kind == .open }?.scores.space.source, .goldFirstTokens)
    }

    func testShardsGiveTheWholeCapturesReport() throws {
        try SyntheticDump.write(Self.spec(), to: path("whole.h5"))
        try SyntheticDump.write(Self.spec(shard: try Shard(parsing: "0/2")), to: path("s0.h5"))
        try SyntheticDump.write(Self.spec(shard: try Shard(parsing: "1/2")), to: path("s1.h5"))
        let whole = try report([path("whole.h5")], "whole", ["--per-prompt"])
        let sharded = try report([path("s1.h5"), path("s0.h5")], "sharded", ["--per-prompt"])
        // The shards hold the same rows bit for bit; the analyzer reads them in other chunks, which
        // changes OpenBLAS's kernel and so the fp32 rounding of per-prompt values (~1e-9), nothing else.
        for table in ["heads.csv", "sets.csv", "geometry.csv", "ablation.csv", "components.csv", "correlations.csv"] {
            let a = try Self.withoutDumpColumn(String(contentsOfFile: whole + "/" + table, encoding: .utf8))
            let b = try Self.withoutDumpColumn(String(contentsOfFile: sharded + "/" + table, encoding: .utf8))
            XCTAssertEqual(a.count, b.count, table)
            for (row, (x, y)) in zip(a, b).enumerated() where !Self.sameRow(x, y) {
                XCTFail("\(table) row \(row) differs:\n  whole   \(x)\n  sharded \(y)")
                break
            }
        }
        try assertSamePerPromptTables(whole, sharded)
    }

    /// Per-prompt values are not averaged: a dot product's fp32 rounding is relative to its
    /// operands' norms, not to its result (docs/methods.md §11), so a TL or DLA near zero differs
    /// by more than 1e-6 of itself. The column's largest magnitude stands in for those norms:
    /// within 1e-5 of it; the other fields equal.
    private func assertSamePerPromptTables(_ whole: String, _ sharded: String) throws {
        for set in try ShardedDump(paths: [path("whole.h5")]).setNames {
            let a = try ReportCSV(whole + "/per_prompt/\(set).csv"), b = try ReportCSV(sharded + "/per_prompt/\(set).csv")
            XCTAssertEqual(a.rows.count, b.rows.count, set)
            for column in ["set", "prompt_index", "layer", "head", "correct", "label_correct"] {
                XCTAssertEqual(try a.texts(column), try b.texts(column), "\(set) \(column)")
            }
            for column in ["tr", "tl", "dla_gold", "dla_margin", "attn_demo_outputs", "attn_demo_inputs", "attn_query",
                           "attn_template", "attn_special", "gold_logprob"] {
                let x = try a.floats(column), y = try b.floats(column)
                let tolerance = 1e-5 * (x.filter { !$0.isNaN }.map(abs).max() ?? 0)
                let differing = zip(x, y).enumerated().filter { _, pair in
                    pair.0.isNaN != pair.1.isNaN || abs(pair.0 - pair.1) > tolerance
                }
                XCTAssertTrue(differing.isEmpty, "\(set) \(column): \(differing.count) rows differ, e.g. \(differing.prefix(3).map { "row \($0.offset) \($0.element)" })")
            }
        }
    }

    /// Equal fields (names, counts, top-set flags), numbers within 1e-6 relative to their size
    /// or 1e-7 absolute (fp32 products of values of order 1).
    static func sameRow(_ a: String, _ b: String) -> Bool {
        let x = a.split(separator: ",", omittingEmptySubsequences: false), y = b.split(separator: ",", omittingEmptySubsequences: false)
        guard x.count == y.count else { return false }
        return zip(x, y).allSatisfy { p, q in
            if p == q { return true }
            guard let u = Double(p), let v = Double(q) else { return false }
            return abs(u - v) <= max(1e-6 * max(abs(u), abs(v)), 1e-7)
        }
    }

    /// The rows of a CSV without its last column (the dump's file names); correlations.csv has
    /// the dump first, so its first column goes too.
    static func withoutDumpColumn(_ text: String) -> [String] {
        let lines = text.split(whereSeparator: \.isNewline)
        let dumpFirst = lines.first?.hasPrefix("dump,") ?? false
        return lines.map { line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            return (dumpFirst ? fields.dropFirst() : fields.dropLast()).joined(separator: ",")
        }
    }

    func testAVersionOneZeroDumpGivesTheSameScores() throws {
        try SyntheticDump.write(Self.spec(), to: path("v11.h5"))
        try SyntheticDump.write(Self.spec(version: "1.0"), to: path("v10.h5"))
        let new = try DumpAnalysis(dump: try ShardedDump(paths: [path("v11.h5")]), options: AnalysisOptions())
        let old = try DumpAnalysis(dump: try ShardedDump(paths: [path("v10.h5")]), options: AnalysisOptions())
        for (a, b) in zip(new.sets, old.sets) {
            XCTAssertEqual(a.scores.meanTR, b.scores.meanTR, a.info.name)
            XCTAssertEqual(a.scores.meanDLAGold, b.scores.meanDLAGold, a.info.name)
        }
        let check = try CommandLineTool.run("icl-analyze", ["check", path("v10.h5")])
        XCTAssertEqual(check.status, 0, check.standardError)
        XCTAssertTrue(check.standardOutput.contains("not stored (format 1.0)"), check.standardOutput)
    }

    func testSelfCheckPassesOnFloat32AndFloat16Dumps() throws {
        for activation in [CaptureConfiguration.ActivationType.f32, .f16] {
            let dump = path("check-\(activation).h5")
            try SyntheticDump.write(Self.spec(activation: activation), to: dump)
            try DumpChecksum.write(for: dump)
            let check = try CommandLineTool.run("icl-analyze", ["check", dump])
            XCTAssertEqual(check.status, 0, "\(activation): \(check.standardError)\n\(check.standardOutput)")
            XCTAssertTrue(check.standardOutput.contains("matches"), check.standardOutput)
            XCTAssertTrue(check.standardOutput.contains("all checks passed"), check.standardOutput)
        }
    }

    func testFullVocabularyMetricsAndTwoModelsComparedByDepth() throws {
        var full = Self.spec()
        full.fullUnembedding = true
        try SyntheticDump.write(full, to: path("full.h5"))
        var deeper = Self.spec()
        deeper.model = SyntheticModelSpec(layers: 10, heads: 4, kvHeads: 2, dHead: 8, dModel: 32, vocabulary: 512)
        try SyntheticDump.write(deeper, to: path("deeper.h5"))
        let out = try report([path("full.h5"), path("deeper.h5")], "two")
        let ablation = try String(contentsOfFile: out + "/ablation.csv", encoding: .utf8).split(whereSeparator: \.isNewline)
        let header = ablation[0].split(separator: ",").map(String.init)
        let vocabulary = try XCTUnwrap(header.firstIndex(of: "gold_logprob_vocab")), dump = try XCTUnwrap(header.firstIndex(of: "dump"))
        let rows = ablation.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        XCTAssertTrue(rows.filter { $0[dump] == "full.h5" }.allSatisfy { Double($0[vocabulary]) != nil },
                      "a dump with every unembedding row gets full-vocabulary metrics")
        XCTAssertTrue(rows.filter { $0[dump] == "deeper.h5" }.allSatisfy { $0[vocabulary].isEmpty })
        // The baseline's full-vocabulary log-probability is the stored one, recomputed.
        let stored = try SetRows(dump: try ShardedDump(paths: [path("full.h5")]), set: "sentiment.clean.k4.qa").goldLogprob
        let baseline = try XCTUnwrap(rows.first { $0[0] == "sentiment.clean.k4.qa" && $0[1] == "baseline" && $0[dump] == "full.h5" })
        XCTAssertEqual(Double(baseline[vocabulary])!, stored.reduce(0.0) { $0 + Double($1) } / Double(stored.count), accuracy: 1e-4)
        let depth = try String(contentsOfFile: out + "/depth.csv", encoding: .utf8)
        XCTAssertTrue(depth.contains("full.h5,") && depth.contains("deeper.h5,"), depth)
        for score in ["tr_score", "tl_score", "induction_stripe"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/compare_\(score).svg"), score)
        }
    }

    func testTheReportOpensInABrowserWithEveryFigure() throws {
        guard let chromium = HeadlessChromium.find() else {
            throw XCTSkip("no Chromium binary; scripts/setup-system installs Debian's chromium")
        }
        try SyntheticDump.write(Self.spec(), to: path("d.h5"))
        let out = try report([path("d.h5")], "browser")
        let index = URL(fileURLWithPath: out).appendingPathComponent("index.html")
        let html = try String(contentsOf: index, encoding: .utf8)
        let figures = html.components(separatedBy: "<img ").count - 1
        XCTAssertGreaterThan(figures, 20)
        let run = try chromium.dumpDOM(of: ReportBrowserTests.copyWithCheckScript(index), width: 1200)
        XCTAssertEqual(run.status, 0, run.log)
        let check = try ReportBrowserTests.result(of: run)
        XCTAssertEqual(check.images.count, figures)
        for image in check.images {
            XCTAssertTrue(image.complete && image.width > 0 && image.height > 0, "did not load: \(image)")
        }
        XCTAssertEqual(check.problems, [])
        XCTAssertEqual(check.console, [])
        XCTAssertEqual(ReportBrowserTests.consoleLines(run.log), [])
    }
}
