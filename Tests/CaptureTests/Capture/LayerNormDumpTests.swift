import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// A dump of a model whose final norm is a LayerNorm (tiny-gpt2), through the built tools:
/// /model records the norm's kind and bias (format 1.3), `icl-analyze check` finds that the
/// components (embedding, heads, biases, MLPs, each centred, plus beta · W_U) reproduce the
/// stored label logits, and the ablation estimates' baseline, which recomputes the LayerNorm
/// from resid_final, gives the stored gold logits back.
final class LayerNormDumpTests: XCTestCase {
    private var scratch: ScratchDirectory!
    private let model = Fixtures.url("models/tiny-gpt2").path

    override func setUpWithError() throws {
        scratch = try ScratchDirectory("layernorm")
    }

    override func tearDownWithError() throws {
        scratch?.remove()
    }

    func testTheDumpRecordsTheNormAndTheAnalyzerReproducesTheStoredLogits() throws {
        try CaptureTool.skipUnlessBuilt()
        let dump = scratch.path("gpt2.h5")
        let outcome = try CaptureTool.capture(["--tasks", "sentiment,antonym", "--n", "5", "--shots", "2",
                                               "--probe-length", "20"], out: dump, model: model)
        XCTAssertTrue(outcome.succeeded, "\(outcome)")
        let snapshot = try DumpSnapshot(path: dump)
        XCTAssertEqual(snapshot.stringAttribute("/model", "final_norm_kind"), "layer")
        XCTAssertEqual(snapshot.stringAttribute("/", "format_version"), DumpFormat.version)
        let loaded = try LoadedModels.model(model)
        XCTAssertEqual(try snapshot.dataset("/model/final_norm_bias").numbers,
                       loaded.transformer.weights.finalNormBias!.array.map(Double.init))

        let check = try CommandLineTool.run("icl-analyze", ["check", dump])
        XCTAssertEqual(check.status, 0, "\(check.standardError)\n\(check.standardOutput)")
        XCTAssertTrue(check.standardOutput.contains("components    sentiment.clean.k2.sentiment: sum of all direct effects = stored label_logits"),
                      check.standardOutput)
        XCTAssertTrue(check.standardOutput.contains("all checks passed"), check.standardOutput)

        let report = scratch.path("report")
        let run = try CommandLineTool.run("icl-analyze", ["report", dump, "--out", report, "--random-sets", "2"])
        XCTAssertEqual(run.status, 0, "\(run.standardError)")
        let set = "sentiment.clean.k2.sentiment"
        let goldColumn = try snapshot.dataset("/sets/\(set)/gold").ints()
        let labelLogits = try snapshot.dataset("/sets/\(set)/label_logits")
        let labels = labelLogits.shape[1]
        let storedGold = goldColumn.enumerated().map { p, gold in labelLogits.numbers[p * labels + gold] }
        let table = try String(contentsOfFile: report + "/ablation.csv", encoding: .utf8).split(whereSeparator: \.isNewline)
        let header = table[0].split(separator: ",").map(String.init)
        let baseline = try XCTUnwrap(table.first { $0.hasPrefix("\(set),baseline,") }).split(separator: ",", omittingEmptySubsequences: false)
        let recomputed = try XCTUnwrap(Double(baseline[header.firstIndex(of: "gold_logit")!]))
        let mean = storedGold.reduce(0, +) / Double(storedGold.count)
        XCTAssertEqual(recomputed, mean, accuracy: 1e-4 * max(1, abs(mean)), "baseline gold logit through the recomputed LayerNorm")
    }
}
