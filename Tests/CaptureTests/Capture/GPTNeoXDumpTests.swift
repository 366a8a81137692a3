import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// A dump of a GPT-NeoX model (tiny-neox: parallel residual, partial rotary, untied embed_out)
/// through the built tools, with gradients: /model's W_U rows are embed_out's rows (not the
/// token embedding's), the final norm is recorded as a LayerNorm with its bias, and
/// `icl-analyze check` finds that the components reproduce the stored label logits.
final class GPTNeoXDumpTests: XCTestCase {
    private var scratch: ScratchDirectory!
    private let model = Fixtures.url("models/tiny-neox").path

    override func setUpWithError() throws {
        scratch = try ScratchDirectory("neox")
    }

    override func tearDownWithError() throws {
        scratch?.remove()
    }

    func testTheDumpTakesWUFromEmbedOutAndTheAnalyzerReproducesTheStoredLogits() throws {
        try CaptureTool.skipUnlessBuilt()
        let dump = scratch.path("neox.h5")
        let outcome = try CaptureTool.capture(["--tasks", "sentiment,antonym", "--n", "5", "--shots", "2",
                                               "--probe-length", "20", "--grads", "gold-logprob"], out: dump, model: model)
        XCTAssertTrue(outcome.succeeded, "\(outcome)")
        let snapshot = try DumpSnapshot(path: dump)
        XCTAssertEqual(snapshot.stringAttribute("/model", "final_norm_kind"), "layer")
        let loaded = try LoadedModels.model(model)
        let weights = loaded.transformer.weights, d = loaded.config.hiddenSize
        XCTAssertFalse(loaded.config.tiedEmbeddings)
        XCTAssertEqual(try snapshot.dataset("/model/final_norm_bias").numbers, weights.finalNormBias!.array.map(Double.init))
        let ids = try snapshot.dataset("/model/unembed_ids").ints()
        let rows = try snapshot.dataset("/model/unembed").numbers
        XCTAssertFalse(ids.isEmpty)
        for (i, id) in ids.enumerated() {
            let stored = Array(rows[(i * d)..<((i + 1) * d)])
            XCTAssertEqual(stored, (0..<d).map { Double(weights.unembedding[id * d + $0]) }, "W_U row of token \(id)")
            XCTAssertNotEqual(stored, (0..<d).map { Double(weights.embedding[id * d + $0]) }, "token \(id): embed_in, not embed_out")
        }

        let check = try CommandLineTool.run("icl-analyze", ["check", dump])
        XCTAssertEqual(check.status, 0, "\(check.standardError)\n\(check.standardOutput)")
        XCTAssertTrue(check.standardOutput.contains("components    sentiment.clean.k2.sentiment: sum of all direct effects = stored label_logits"),
                      check.standardOutput)
        XCTAssertTrue(check.standardOutput.contains("all checks passed"), check.standardOutput)
    }
}
