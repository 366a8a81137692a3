import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// A capture of the real Gemma 3 270M: the dump records the norm after attention (format 1.4),
/// its stored gains are the model's, and `icl-analyze check` finds that the heads' writes
/// (through that norm's frozen scale), the MLPs and the embedding reproduce the stored label
/// logits, and that the stored scales are those of the stored z; the numpy reference, which
/// folds the norm's gains and scales on its own, agrees with the report's TR, TL, DLA and
/// ablation estimates to 1e-5.
final class Gemma3DumpTests: XCTestCase {
    private var scratch: ScratchDirectory!

    override func setUpWithError() throws {
        scratch = try ScratchDirectory("gemma-dump")
    }

    override func tearDownWithError() throws {
        scratch?.remove()
    }

    func testARealGemmaDumpAddsUpThroughTheNormAfterAttention() throws {
        guard let model = Fixtures.gemmaModel?.path else { throw XCTSkip("Gemma 3 270M not downloaded (scripts/setup-model)") }
        try CaptureTool.skipUnlessBuilt()
        let dump = scratch.path("gemma.h5")
        let outcome = try CaptureTool.capture(["--tasks", "antonym,sentiment", "--n", "4", "--shots", "3",
                                               "--probe-sequences", "2", "--probe-length", "20"], out: dump, model: model)
        XCTAssertTrue(outcome.succeeded, "\(outcome)")
        let snapshot = try DumpSnapshot(path: dump)
        XCTAssertEqual(snapshot.stringAttribute("/model", "attention_output_norm"), "rms")
        let loaded = try LoadedModels.model(model)
        XCTAssertEqual(try snapshot.dataset("/model/attention_output_norm_weight").numbers,
                       loaded.transformer.weights.layers.flatMap { $0.attentionOutputNorm!.array.map(Double.init) })

        let check = try CommandLineTool.run("icl-analyze", ["check", dump])
        XCTAssertEqual(check.status, 0, "\(check.standardError)\n\(check.standardOutput)")
        for line in ["components    sentiment.clean.k3.sentiment: sum of all direct effects = stored label_logits",
                     "output norm   sentiment.clean.k3.sentiment: stored attention output norm scales = recomputed",
                     "projections   sentiment.clean.k3.sentiment: stored head and residual label logits = recomputed",
                     "all checks passed"] {
            XCTAssertTrue(check.standardOutput.contains(line), "missing \(line.debugDescription) in\n\(check.standardOutput)")
        }

        guard let python = PythonStack.find() else { throw XCTSkip("no Python with h5py and numpy (scripts/setup-python-tests)") }
        let selfTest = NumpyReference.selfTest([dump], python: python, out: scratch.path("reference"))
        XCTAssertEqual(selfTest.status, 0, "numpy self-test failed:\n\(selfTest.output)")
        let report = scratch.path("report")
        let analyze = try CommandLineTool.run("icl-analyze", ["report", dump, "--out", report, "--random-sets", "20", "--per-prompt"])
        XCTAssertEqual(analyze.status, 0, analyze.standardError)
        let compared = NumpyReference.compare([dump], report: report, python: python)
        XCTAssertEqual(compared.status, 0, "numpy reference disagrees:\n\(compared.output)")
        XCTAssertTrue(compared.output.contains("tl_score"), "TL not compared:\n\(compared.output)")
    }
}
