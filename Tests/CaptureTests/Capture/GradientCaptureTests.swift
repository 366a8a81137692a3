import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// `icl-capture run --grads`: the stored gradients are the engine's reverse pass (itself checked
/// against torch autograd, GradientReferenceTests) run on each prompt alone; the rest of the
/// dump is what a capture without --grads writes; the analyzer accepts the dump; a metric
/// the tasks cannot give is refused before anything is created; --resume needs the same metric.
final class GradientCaptureTests: XCTestCase {
    private var scratch: ScratchDirectory!

    override func setUpWithError() throws {
        scratch = try ScratchDirectory("grads")
    }

    override func tearDown() {
        scratch?.remove()
        super.tearDown()
    }

    private func configuration(_ tasks: [String], grads: AnswerMetric?,
                               dtype: CaptureConfiguration.ActivationType = .f32) -> CaptureConfiguration {
        CaptureConfiguration(tasks: tasks, variants: [.clean, .shuffledLabels, .zeroShot], shots: [2], promptsPerSet: 3,
                             seed: 7, positions: .labels, probeSequences: 1, probeLength: 8, activationType: dtype,
                             grads: grads)
    }

    /// The stored rows of a batch of prompts against one reverse pass per prompt alone
    /// (another GEMM packing: the last bits may differ), each tensor within 1e-5 of its
    /// largest magnitude.
    func testStoredGradientsAreTheEnginesGradientsOfEachPromptAlone() throws {
        let model = try LoadedModels.model(CaptureTool.tinyModel)
        let c = model.config
        let l = c.layerCount, h = c.headCount, e = c.headDim, d = c.hiddenSize
        var worst = 0.0, compared = 0
        for (metric, tasks) in [(AnswerMetric.goldLogProbability, ["antonym", "sentiment"]),
                                (.goldProbability, ["antonym"]), (.labelMargin, ["sentiment"])] {
            let path = scratch.path("\(metric.rawValue).h5")
            try TinyCapture.write(to: path, configuration: configuration(tasks, grads: metric))
            let dump = try DumpSnapshot(path: path)
            XCTAssertEqual(dump.stringAttribute("/", "gradient_metric"), metric.rawValue)
            for set in dump.groupNames(under: "/sets") {
                let group = "/sets/\(set)"
                let tokenIDs = try dump.dataset(group + "/token_ids"), counts = try dump.dataset(group + "/token_count").ints()
                let positions = try dump.dataset(group + "/positions"), goldTokens = try dump.dataset(group + "/gold_token").ints()
                let labels = try dump.dataset(group + "/label_ids").ints().map(Int32.init)
                let names = ["grad_metric", "grad_z", "grad_resid", "grad_z_position_sum", "head_zgrad_answer", "head_zgrad_all_positions"]
                let stored = try names.map { try dump.dataset(group + "/" + $0) }
                for p in counts.indices {
                    let tokens = tokenIDs.row(p).prefix(counts[p]).map { Int32($0) }
                    let captured = positions.row(p).map { Int($0) }
                    var z = [[Float]](repeating: [], count: l), dz = z, dResid = [[Float]](repeating: [], count: l + 1)
                    let hooks = Hooks()
                    for layer in 0..<l { hooks.add(.z(layer)) { z[layer] = Array($0.values) } }
                    let pass = try model.transformer.gradients(
                        of: metric, prompts: [GradientPrompt(tokens: tokens, target: MetricTarget(gold: Int32(goldTokens[p]), labels: labels))],
                        request: .headsAndResidual(layers: l), hooks: hooks) { gradient in
                        switch gradient.point {
                        case .z(let layer): dz[layer] = Array(gradient.values)
                        case .residPre(let layer): dResid[layer] = Array(gradient.values)
                        case .residFinal: dResid[l] = Array(gradient.values)
                        default: break
                        }
                    }
                    // grad_z: [C, L, H, E]; grad_resid: [C, L + 1, D]; the sums: [L, H]
                    let gradZ = captured.flatMap { t in (0..<l).flatMap { dz[$0][(t * h * e)..<((t + 1) * h * e)] } }
                    let gradResid = captured.flatMap { t in (0..<(l + 1)).flatMap { dResid[$0][(t * d)..<((t + 1) * d)] } }
                    // dM/dz summed over every token: [L, H, E]
                    let positionSum = (0..<l).flatMap { layer in
                        (0..<(h * e)).map { i in (0..<tokens.count).reduce(0.0) { $0 + Double(dz[layer][$1 * h * e + i]) } }
                    }
                    func zDotGrad(_ layer: Int, _ head: Int, _ rows: [Int]) -> Double {
                        var sum = 0.0
                        for t in rows {
                            let start = (t * h + head) * e
                            for i in start..<(start + e) { sum += Double(z[layer][i]) * Double(dz[layer][i]) }
                        }
                        return sum
                    }
                    let heads = (0..<l).flatMap { layer in (0..<h).map { (layer, $0) } }
                    let answer = heads.map { zDotGrad($0.0, $0.1, [captured[0]]) }
                    let all = heads.map { zDotGrad($0.0, $0.1, Array(0..<tokens.count)) }
                    let expected: [[Double]] = [pass.metricValues, gradZ.map(Double.init), gradResid.map(Double.init), positionSum,
                                                answer, all]
                    for (name, (values, mine)) in zip(names, zip(stored, expected)) {
                        XCTAssertEqual(values.rowWidth, mine.count, "\(set) \(name)")
                        let difference = relativeDifference(values.row(p), mine[...])
                        worst = max(worst, difference)
                        XCTAssertLessThan(difference, 1e-5, "\(metric.rawValue) \(set) prompt \(p) \(name): \(firstDifference(values.row(p), mine[...]))")
                        compared += 1
                    }
                    XCTAssertTrue(gradZ.contains { $0 != 0 } && gradResid.contains { $0 != 0 }, "\(set) prompt \(p): all-zero gradients")
                }
            }
        }
        print("stored gradients vs the engine on each prompt alone: \(compared) rows, worst difference \(worst) of the row's largest magnitude")
    }

    /// One forward pass serves both: every dataset a capture without --grads writes holds the
    /// same bits with it, float32 and float16.
    func testEverythingElseIsWhatACaptureWithoutGradientsWrites() throws {
        for dtype in [CaptureConfiguration.ActivationType.f32, .f16] {
            let plain = scratch.path("plain-\(dtype).h5"), grads = scratch.path("grads-\(dtype).h5")
            try TinyCapture.write(to: plain, configuration: configuration(["antonym", "sentiment"], grads: nil, dtype: dtype))
            try TinyCapture.write(to: grads, configuration: configuration(["antonym", "sentiment"], grads: .goldProbability, dtype: dtype))
            let without = try DumpSnapshot(path: plain), with = try DumpSnapshot(path: grads)
            for (path, values) in without.datasets {
                XCTAssertTrue(try with.dataset(path).identical(to: values), "\(dtype): \(path) differs with --grads")
            }
            let added = Set(with.datasets.keys).subtracting(without.datasets.keys)
            let sets = without.groupNames(under: "/sets")
            XCTAssertEqual(added, Set(sets.flatMap { set in DumpLayout.gradientDatasets.map { "/sets/\(set)/\($0)" } }))
            XCTAssertEqual(without.stringAttribute("/", "gradient_metric"), "")
            for name in ["grad_z", "grad_resid"] {
                XCTAssertEqual(try with.dataset("/sets/\(sets[0])/\(name)").type, dtype == .f16 ? .float16 : .float32)
            }
            XCTAssertEqual(try with.dataset("/sets/\(sets[0])/head_zgrad_all_positions").type, .float32)
            XCTAssertEqual(try with.dataset("/sets/\(sets[0])/grad_z_position_sum").type, .float32)
            XCTAssertFalse(without.stringAttribute("/", "capture_config")!.contains("grads"),
                           "a capture without --grads changed its configuration text")
        }
    }

    func testTheAnalyzerChecksAndSummarisesADumpWithGradients() throws {
        try CaptureTool.skipUnlessBuilt()
        for dtype in ["f32", "f16"] {
            let dump = scratch.path("check-\(dtype).h5")
            let outcome = try CaptureTool.capture(["--tasks", "sentiment,antonym", "--n", "4", "--shots", "2", "--dtype", dtype,
                                                   "--grads", "gold-logprob"], out: dump)
            XCTAssertTrue(outcome.succeeded, "\(outcome)")
            let check = try CommandLineTool.run("icl-analyze", ["check", dump])
            XCTAssertEqual(check.status, 0, "\(dtype): \(check.standardError)\n\(check.standardOutput)")
            XCTAssertTrue(check.standardOutput.contains("all checks passed"), check.standardOutput)
            let info = try CommandLineTool.run("icl-analyze", ["info", dump])
            XCTAssertEqual(info.status, 0, "\(dtype): \(info.standardError)")
        }
    }

    func testLabelMarginOnAnOpenAnswerTaskIsRefusedBeforeAnythingIsCreated() throws {
        try CaptureTool.skipUnlessBuilt()
        let out = scratch.path("refused.h5")
        let outcome = try CaptureTool.capture(["--tasks", "sentiment,antonym", "--n", "2", "--grads", "label-margin"], out: out)
        XCTAssertTrue(outcome.exited && outcome.status != 0, "\(outcome)")
        XCTAssertEqual(outcome.errorLines.count, 1, "\(outcome)")
        XCTAssertTrue(outcome.standardError.contains("antonym.jsonl") && outcome.standardError.contains("label-margin")
                      && outcome.standardError.contains("open-answer"), "\(outcome)")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path), [], "something was created")
    }

    /// The metric is part of the capture's options: rows of two metrics never mix in one dump.
    func testResumeContinuesOnlyWithTheSameMetric() throws {
        try CaptureTool.skipUnlessBuilt()
        let options = ["--tasks", "sentiment", "--n", "5", "--shots", "2", "--probe-sequences", "0", "--batch-tokens", "80"]
        let out = scratch.path("dump.h5"), reference = scratch.path("reference.h5")
        for path in [out, reference] {
            let outcome = try CaptureTool.capture(options + ["--grads", "label-margin"], out: path)
            XCTAssertTrue(outcome.succeeded, "\(outcome)")
        }
        // As if killed before the last rows of each set were flagged done.
        let file = try HDF5File.open(out, mode: .readWrite)
        for set in try file.openGroup("sets").members() {
            try file.openDataset("sets/\(set.name)/done").write([UInt8]([1, 1, 0, 0, 0]))
        }
        try file.close()
        let before = try Data(contentsOf: URL(fileURLWithPath: out))
        for (what, extra) in [("no gradients", [String]()), ("another metric", ["--grads", "gold-prob"])] {
            let outcome = try CaptureTool.capture(options + extra + ["--resume"], out: out)
            XCTAssertTrue(outcome.exited && outcome.status != 0, "\(what): \(outcome)")
            XCTAssertEqual(outcome.errorLines.count, 1, "\(what): \(outcome)")
            XCTAssertTrue(outcome.standardError.contains("other options"), "\(what): \(outcome)")
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out)), before, "\(what): the refused dump was changed")
        }
        let resumed = try CaptureTool.capture(options + ["--grads", "label-margin", "--resume"], out: out)
        XCTAssertTrue(resumed.succeeded && resumed.standardOutput.contains("captured 9 prompts"), "\(resumed)")
        // Resumed rows are batched differently, so their last bits may differ: each row within
        // 1e-5 of its largest magnitude; the margin, a difference of logits, within 1e-5 of them.
        let mine = try DumpSnapshot(path: out), theirs = try DumpSnapshot(path: reference)
        for set in theirs.groupNames(under: "/sets") {
            let logits = try theirs.dataset("/sets/\(set)/label_logits")
            for name in DumpLayout.gradientDatasets.sorted() + ["done"] {
                let path = "/sets/\(set)/\(name)"
                let a = try mine.dataset(path), b = try theirs.dataset(path)
                for row in 0..<b.rowCount {
                    let scale = name == "grad_metric" ? logits.row(row).map(abs).max()! : b.row(row).map(abs).max()!
                    let difference = zip(a.row(row), b.row(row)).map { abs($0 - $1) }.max()!
                    XCTAssertLessThanOrEqual(difference, 1e-5 * scale, "\(path) row \(row): \(firstDifference(a.row(row), b.row(row)))")
                }
            }
        }
    }
}
