import Analyze
import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// The report's reading of steering and FV-vs-induction runs (docs/methods.md §21), end to end
/// on dumps the tiny model captured and intervened on: every number of steering.csv,
/// steering_estimate.csv and fv_vs_induction.csv against values computed here from the run's
/// own datasets (and, for the first-order estimate, from the stored gradients), and the
/// first-order estimate against the model's exact change at a small scale, where the two must meet.
final class ComparisonReportTests: XCTestCase {
    private var directory: URL!
    private let clean = "sentiment.clean.k2.sentiment"
    private let zeroShot = "sentiment.zero_shot.k0.sentiment"

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("analyze-comparison-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
    private func model() throws -> LoadedModel { try ModelLoader.load(path: Fixtures.url("models/tiny-llama3").path) }

    private func capture(_ name: String, variants: [PromptVariant], seed: UInt64, grads: AnswerMetric? = nil) throws -> String {
        let dump = path(name)
        try TinyCapture.write(to: dump, configuration: CaptureConfiguration(
            tasks: ["sentiment"], variants: variants, shots: [2], promptsPerSet: 6, seed: seed, probeSequences: 2, probeLength: 8,
            grads: grads))
        return dump
    }

    private func write(_ text: String, _ name: String) throws -> String {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path(name)))
        return path(name)
    }

    private func intervene(_ dump: String, _ action: InterventionRequest.Action, name: String? = nil, sets: [String]? = nil) throws {
        _ = try Intervention.run(InterventionRequest(dump: dump, action: action, sets: sets, name: name), model: try model(),
                                 modelSHA256: "0", provenance: [:], progress: { _ in nil })
    }

    private func report(_ dump: String, _ name: String) throws -> String {
        let out = path(name)
        let analyses = try CaptureGroups.open([dump]).map { try DumpAnalysis(dump: $0, options: AnalysisOptions()) }
        try ReportWriter.write(analyses, options: AnalysisOptions(), to: out)
        return out
    }

    private func read<T: HDF5Element>(_ dump: String, _ dataset: String, as type: T.Type = T.self) throws -> [T] {
        let file = try HDF5File.open(dump)
        defer { try? file.close() }
        return try file.openDataset(dataset).read(as: T.self)
    }

    private func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }

    /// Task vectors of a TR head set with three random sets, and of a TL head set, from dump
    /// `source`'s clean set (head-set files as icl-analyze heads --json writes them, score included).
    private func vectorFiles(from source: String) throws -> [String] {
        let tr = try write(#"""
            {"score": "tr", "heads": [[2, 1], [1, 0]],
             "headSets": [{"name": "top_tr", "kind": "named", "heads": [[2, 1], [1, 0]]},
                          {"name": "random_00", "kind": "random", "heads": [[0, 2], [2, 3]]},
                          {"name": "random_01", "kind": "random", "heads": [[1, 3], [0, 0]]},
                          {"name": "random_02", "kind": "random", "heads": [[2, 2], [0, 1]]}]}
            """#, "tr.json")
        let tl = try write(#"{"score": "tl", "heads": [[1, 1], [2, 0]], "headSets": [{"name": "top_tl", "kind": "named", "heads": [[1, 1], [2, 0]]}]}"#, "tl.json")
        let dump = try ShardedDump(paths: [source])
        return try [("tr", tr), ("tl", tl)].map { name, heads in
            let sets = try HeadSetFile.read(path: heads, layers: 3, heads: 4)
            let file = try TaskVector.make(dump: dump, set: clean, headSets: sets, headsFile: heads, options: AnalysisOptions())
            let out = path("\(name)-vectors.json")
            try file.write(to: out)
            return out
        }
    }

    func testSteeringAccuracyPerLayerAndItsFirstOrderEstimateInTheReport() throws {
        let source = try capture("source.h5", variants: [.clean], seed: 5)
        let files = try vectorFiles(from: source)
        XCTAssertEqual(try TaskVectorFile.read(path: files[0]).vectors.map(\.resolvedFamily), ["tr", "random", "random", "random"])
        XCTAssertEqual(try TaskVectorFile.read(path: files[1]).vectors.map(\.family), ["tl"])

        // Steered prompts of another seed, captured with gradients; a run at scale 1 over every
        // layer and one at a small scale, where the first-order estimate must meet the truth.
        let dump = try capture("steered.h5", variants: [.clean, .zeroShot], seed: 6, grads: .goldLogProbability)
        try intervene(dump, .steer(vectorFiles: files, layers: .all, scale: 1), name: "steer")
        try intervene(dump, .steer(vectorFiles: files, layers: .list([1]), scale: 0.01), name: "small")
        XCTAssertEqual(try HDF5File.open(dump).openDataset("interventions/steer/steer_vector_family").readStrings(),
                       ["none", "tr", "random", "random", "random", "tl"])
        let out = try report(dump, "report")

        // steering.csv against the run's own datasets.
        let group = "interventions/steer/sets/\(zeroShot)"
        let correct = try read(dump, group + "/steer_correct", as: UInt8.self).map(Double.init)   // [P, V, S]
        let logprob = try read(dump, group + "/steer_gold_logprob", as: Float.self).map(Double.init)
        let outside = try read(dump, group + "/outside_scoring", as: UInt8.self)                    // [P, V]
        let (p, v, s) = (6, 6, 3)
        func at(_ prompt: Int, _ vector: Int, _ layer: Int) -> Int { (prompt * v + vector) * s + layer }
        let table = try ReportCSV(out + "/steering.csv").filtered("intervention", "steer")
        let names = try table.texts("vector"), layers = try table.integers("layer"), scopes = try table.texts("scope")
        XCTAssertEqual(Set(try table.texts("family")), ["none", "tr", "tl", "random"])
        var checked = 0
        for vector in 0..<v {
            for layer in 0..<s {
                for scope in ["all_prompts", "outside_scoring"] {
                    let prompts = (0..<p).filter { scope == "all_prompts" || outside[$0 * v + vector] == 1 }
                    let row = table.rows.indices.first {
                        names[$0] == ["none", "top_tr", "random_00", "random_01", "random_02", "top_tl"][vector] && layers[$0] == layer && scopes[$0] == scope
                    }
                    guard !prompts.isEmpty else { XCTAssertNil(row); continue }
                    let r = try XCTUnwrap(row, "vector \(vector) layer \(layer) \(scope)")
                    XCTAssertEqual(try table.integers("prompts")[r], prompts.count)
                    XCTAssertEqual(try table.numbers("accuracy")[r], mean(prompts.map { correct[at($0, vector, layer)] }), accuracy: 1e-12)
                    XCTAssertEqual(try table.numbers("mean_gold_logprob")[r], mean(prompts.map { logprob[at($0, vector, layer)] }), accuracy: 1e-6)
                    XCTAssertEqual(try table.numbers("delta_gold_logprob")[r],
                                   mean(prompts.map { logprob[at($0, vector, layer)] - logprob[at($0, 0, layer)] }), accuracy: 1e-6)
                    let interval = Interval.wilson(successes: prompts.filter { correct[at($0, vector, layer)] == 1 }.count, trials: prompts.count)!
                    XCTAssertEqual(try table.numbers("accuracy_ci_low")[r], interval.lower, accuracy: 1e-9)
                    if scope == "all_prompts" && [1, 5].contains(vector) {
                        let random = (2...4).map { w in mean((0..<p).map { correct[at($0, w, layer)] }) }
                        XCTAssertEqual(try table.numbers("random_accuracy_p05")[r], Summary.quantile(random, 0.05)!, accuracy: 1e-12)
                        XCTAssertEqual(try table.numbers("random_accuracy_p95")[r], Summary.quantile(random, 0.95)!, accuracy: 1e-12)
                    }
                    checked += 1
                }
            }
        }
        XCTAssertGreaterThanOrEqual(checked, v * s)
        XCTAssertTrue(logprob.indices.contains { abs(logprob[$0] - logprob[at($0 / (v * s), 0, $0 % s)]) > 1e-3 }, "steering must change something")

        // steering_estimate.csv: v · grad_resid[p, 0, l] computed here, against the exact change.
        let values = try read(dump, "interventions/steer/steer_vector_values", as: Float.self).map(Double.init)   // [V, D]
        let gradient = try read(dump, "sets/\(zeroShot)/grad_resid", as: Float.self).map(Double.init)           // [P, 1, L+1, D]
        let d = values.count / v
        let estimates = try ReportCSV(out + "/steering_estimate.csv")
        let runs = try estimates.texts("intervention"), scope = try estimates.texts("scope")
        let vectorColumn = try estimates.texts("vector"), layerColumn = try estimates.texts("layer")
        XCTAssertEqual(Set(try estimates.texts("metric")), ["gold-logprob"])
        for layer in 0..<s {
            let estimate = (0..<p).map { prompt in (0..<d).reduce(0.0) { $0 + values[1 * d + $1] * gradient[(prompt * (s + 1) + layer) * d + $1] } }
            let exact = (0..<p).map { logprob[at($0, 1, layer)] - logprob[at($0, 0, layer)] }
            let r = try XCTUnwrap(estimates.rows.indices.first {
                runs[$0] == "steer" && scope[$0] == "vector_layer" && vectorColumn[$0] == "top_tr" && layerColumn[$0] == "\(layer)"
            })
            XCTAssertEqual(try estimates.numbers("mean_first_order_estimate")[r], mean(estimate), accuracy: 1e-6 * max(1, abs(mean(estimate))))
            XCTAssertEqual(try estimates.numbers("mean_exact_change")[r], mean(exact), accuracy: 1e-6)
            XCTAssertEqual(try estimates.numbers("pearson")[r], Correlation.pearson(estimate, exact) ?? .nan, accuracy: 1e-6)
        }
        // At scale 0.01 the change is first order: the estimate meets the model's exact change.
        let small = try XCTUnwrap(estimates.rows.indices.first { runs[$0] == "small" && scope[$0] == "all_pairs" })
        let pearson = try estimates.numbers("pearson")[small]
        let worstGap = abs(try estimates.numbers("worst_first_order_estimate")[small] - estimates.numbers("worst_exact_change")[small])
        let meanExact = abs(try estimates.numbers("mean_exact_change")[small])
        print("steering first-order estimate at scale 0.01: Pearson \(pearson), worst |estimate - exact| \(worstGap), mean |exact| \(meanExact)")
        XCTAssertGreaterThan(pearson, 0.99)
        XCTAssertEqual(try estimates.numbers("sign_agreement")[small], 1, accuracy: 1e-12)

        // Figure, page and summary.
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/report_\(zeroShot)_steering_steer.svg"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/report_\(zeroShot)_steering_estimate_small.svg"))
        let page = try String(contentsOfFile: out + "/index.html", encoding: .utf8)
        XCTAssertTrue(page.contains("report_\(zeroShot)_steering_steer.svg"))
        XCTAssertTrue(page.contains("steering.csv"))
        let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/summary.json"))) as? [String: Any])
        let entry = try XCTUnwrap((summary["dumps"] as? [[String: Any]])?.first)
        let run = try XCTUnwrap((entry["interventions"] as? [[String: Any]])?.first { $0["name"] as? String == "steer" })
        XCTAssertEqual(run["read"] as? Bool, true)
        XCTAssertEqual((run["families"] as? [String: String])?["top_tl"], "tl")
        XCTAssertEqual(run["familiesRecorded"] as? Bool, true)

        // A dump without gradients: the estimate is listed as skipped, with the reason.
        try intervene(source, .steer(vectorFiles: files, layers: .middle, scale: 1), sets: [clean])
        let plain = try String(contentsOfFile: try report(source, "plain") + "/summary.json", encoding: .utf8)
        XCTAssertTrue(plain.contains("the dump holds no gradients"), plain)
    }

    func testFVInductionTRAndTLCurvesAgainstTheRandomSetsInTheReport() throws {
        let dump = try capture("d.h5", variants: [.clean, .shuffledLabels], seed: 5)
        try intervene(dump, .cie)
        let order = [5, 1, 9, 2, 11, 0, 3, 4, 6, 7, 8, 10], trOrder = [7, 3, 0, 1, 2, 4, 5, 6, 8, 9, 10, 11]
        func ranking(_ heads: [Int], _ score: String) throws -> String {
            try write("{\"score\": \"\(score)\", \"heads\": [\(heads.map { "[\($0 / 4), \($0 % 4)]" }.joined(separator: ", "))]}", "\(score).json")
        }
        var request = FVInductionRequest(cieRun: nil, inductionFile: try ranking(order, "induction"))
        request.trFile = try ranking(trOrder, "tr")
        request.percents = [10, 25]
        request.randomSets = 3
        request.newTokens = 2
        try intervene(dump, .fvVsInduction(request))
        let group = "interventions/fv_vs_induction"
        let file = try HDF5File.open(dump)
        let names = try file.openDataset(group + "/head_set_name").readStrings()
        let families = try file.openDataset(group + "/head_set_family").readStrings()
        try file.close()
        XCTAssertEqual(families.filter { $0 == "tr" }.count, 2)
        let out = try report(dump, "report")

        let correct = try read(dump, "\(group)/sets/\(clean)/correct", as: UInt8.self).map(Double.init)       // [P, S]
        let f1 = try read(dump, "\(group)/sets/\(clean)/generation_f1", as: Float.self).map(Double.init)
        let logprob = try read(dump, "\(group)/sets/\(clean)/gold_logprob", as: Float.self).map(Double.init)
        let s = names.count, p = 6
        func column(_ values: [Double], _ set: Int) -> [Double] { (0..<p).map { values[$0 * s + set] } }
        let table = try ReportCSV(out + "/fv_vs_induction.csv").filtered("set", clean)
        let family = try table.texts("family"), percent = try table.numbers("percent")
        for (name, k) in [("tr_top25", 25.0), ("fv_top10", 10.0), ("induction_top25", 25.0)] {
            let index = names.firstIndex(of: name)!
            let r = try XCTUnwrap(table.rows.indices.first { family[$0] == families[index] && percent[$0] == k }, name)
            XCTAssertEqual(try table.texts("head_set")[r], name)
            XCTAssertEqual(try table.numbers("accuracy")[r], mean(column(correct, index)), accuracy: 1e-12)
            XCTAssertEqual(try table.numbers("mean_f1")[r], mean(column(f1, index)), accuracy: 1e-6)
            XCTAssertEqual(try table.numbers("delta_gold_logprob")[r], mean(column(logprob, index)) - mean(column(logprob, 0)), accuracy: 1e-6)
            let random = names.indices.filter { families[$0] == "random" && names[$0].hasPrefix("random_top\(Int(k))_") }
            XCTAssertEqual(random.count, 3)
            let accuracies = random.map { mean(column(correct, $0)) }, scores = random.map { mean(column(f1, $0)) }
            XCTAssertEqual(try table.numbers("random_accuracy_p05")[r], Summary.quantile(accuracies, 0.05)!, accuracy: 1e-12)
            XCTAssertEqual(try table.numbers("random_f1_p95")[r], Summary.quantile(scores, 0.95)!, accuracy: 1e-6)
            XCTAssertEqual(try table.numbers("random_f1_mean")[r], mean(scores), accuracy: 1e-6)
        }
        let randomRow = try XCTUnwrap(table.rows.indices.first { family[$0] == "random" && percent[$0] == 25 })
        let random25 = names.indices.filter { names[$0].hasPrefix("random_top25_") }
        XCTAssertEqual(try table.numbers("accuracy")[randomRow], mean(random25.map { mean(column(correct, $0)) }), accuracy: 1e-12)
        for k in ["accuracy", "F1"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/report_\(clean)_fv_vs_induction_\(k)_fv_vs_induction.svg"), k)
        }
        let page = try String(contentsOfFile: out + "/index.html", encoding: .utf8)
        XCTAssertTrue(page.contains("report_\(clean)_fv_vs_induction_F1_fv_vs_induction.svg"))
        XCTAssertTrue(page.contains("fv_vs_induction.csv"))
    }

    /// Runs written before steer_vector_family existed: the family comes from the vector's name.
    func testVectorFamiliesFromNamesAndScores() {
        XCTAssertEqual(HeadSetFamily.of(name: "top_tr", kind: .named, score: "tr"), "tr")
        XCTAssertEqual(HeadSetFamily.of(name: "top_tl", kind: .named, score: "tr"), "other", "a file of TR scores holds no TL set")
        XCTAssertEqual(HeadSetFamily.of(name: "top_tl", kind: .named, score: nil), "tl")
        XCTAssertEqual(HeadSetFamily.of(name: "random_07", kind: .random, score: "tr"), "random")
        XCTAssertEqual(HeadSetFamily.of(name: "mine", kind: .file, score: nil), "other")
        XCTAssertEqual(HeadSetFamily.of(name: "top_", kind: .named, score: nil), "other")
    }

    /// `icl-analyze report` refuses `dump` with one line naming it and saying `problem`.
    private func assertRefused(_ dump: String, says problem: String, file: StaticString = #filePath, line: UInt = #line) throws {
        try assertReportRefused(dump, out: path("refused"), says: problem, file: file, line: line)
    }

    func testDamagedSteeringAndFVInductionRunsAreRefusedWithOneLine() throws {
        let source = try capture("source.h5", variants: [.clean, .shuffledLabels, .zeroShot], seed: 5)
        try intervene(source, .steer(vectorFiles: try vectorFiles(from: source), layers: .middle, scale: 1), name: "steer")
        try intervene(source, .cie)
        var request = FVInductionRequest(cieRun: nil, inductionFile: try write(
            "{\"heads\": [\((0..<12).map { "[\($0 / 4), \($0 % 4)]" }.joined(separator: ", "))]}", "induction.json"))
        request.percents = [25]
        request.randomSets = 2
        request.newTokens = 1
        try intervene(source, .fvVsInduction(request))

        func damaged(_ name: String, _ change: (HDF5File) throws -> Void) throws -> String {
            let copy = path(name)
            try FileManager.default.copyItem(atPath: source, toPath: copy)
            let file = try HDF5File.open(copy, mode: .readWrite)
            try change(file)
            try file.close()
            return copy
        }
        let outside = try damaged("outside.h5") {
            let dataset = try $0.openDataset("interventions/steer/sets/\(self.zeroShot)/outside_scoring")
            try dataset.write([UInt8](repeating: 2, count: dataset.shape.reduce(1, *)))
        }
        try assertRefused(outside, says: "/interventions/steer/sets/\(zeroShot) row 0: outside_scoring is not 0 or 1")
        let layer = try damaged("layer.h5") { try $0.openDataset("interventions/steer/steer_layer_index").write([Int32(9)]) }
        try assertRefused(layer, says: "/interventions/steer/steer_layer_index holds a layer outside 0..<3")
        let f1 = try damaged("f1.h5") {
            let dataset = try $0.openDataset("interventions/fv_vs_induction/sets/\(self.clean)/generation_f1")
            try dataset.write([Float](repeating: 2, count: dataset.shape.reduce(1, *)))
        }
        try assertRefused(f1, says: "/interventions/fv_vs_induction/sets/\(clean) row 0: generation_f1 is not in [0, 1]")
        let percent = try damaged("percent.h5") {
            let dataset = try $0.openDataset("interventions/fv_vs_induction/head_set_percent")
            try dataset.write([Float](repeating: 250, count: dataset.shape[0]))
        }
        try assertRefused(percent, says: "/interventions/fv_vs_induction/head_set_percent holds a k outside (0, 100]")
    }
}
