import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// Gemma 3 through the built icl-capture: `inspect` describes what is particular to it, and small
/// captures run, with gradients too.
final class Gemma3CommandLineTests: XCTestCase {
    private var scratch: ScratchDirectory!
    private let tiny = Fixtures.url("models/tiny-gemma3").path

    override func setUpWithError() throws {
        try CaptureTool.skipUnlessBuilt()
        scratch = try ScratchDirectory("gemma3")
    }

    override func tearDown() {
        scratch?.remove()
        super.tearDown()
    }

    func testInspectDescribesTheTinyModel() throws {
        let outcome = try CaptureTool.run(["inspect", "--model", tiny, "--json"])
        XCTAssertTrue(outcome.succeeded, "\(outcome)")
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(outcome.standardOutput.utf8)) as? [String: Any])
        XCTAssertEqual(report["architecture"] as? String, "gemma3")
        XCTAssertEqual(report["mlp"] as? String, "geGLU")
        XCTAssertEqual(report["localRopeTheta"] as? Double, 10000)
        XCTAssertEqual(report["ropeTheta"] as? Double, 1_000_000)
        XCTAssertEqual(report["slidingWindowLayers"] as? [Bool], [true, true, false])
        XCTAssertEqual(try XCTUnwrap(report["attentionScale"] as? Double), 1 / Double(32).squareRoot(), accuracy: 1e-7)
        XCTAssertEqual(report["blockOutputNorms"] as? Bool, true)
    }

    func testInspectDescribesGemma3_270M() throws {
        guard let path = Fixtures.gemmaModel?.path else { throw XCTSkip("Gemma 3 270M not downloaded (scripts/setup-model)") }
        let outcome = try CaptureTool.run(["inspect", "--model", path])
        XCTAssertTrue(outcome.succeeded, "\(outcome)")
        for line in ["gemma3: 18 layers, d_model 640, d_ff 2048, vocabulary 262144",
                     "4 heads of 256, 1 KV heads (4 query heads each), scores x 0.0625; sliding window 512 on 15 of 18 layers",
                     "rope theta 1000000.0 (sliding-window layers: theta 10000.0)", "GeGLU (tanh GELU) MLP",
                     "name:         Gemma 3 270m"] {
            XCTAssertTrue(outcome.standardOutput.contains(line), "missing \(line.debugDescription) in\n\(outcome.standardOutput)")
        }
    }

    func testASmallCaptureRuns() throws {
        let dump = scratch.path("gemma.h5")
        let outcome = try CaptureTool.capture(["--tasks", "antonym,sentiment", "--n", "3", "--shots", "2",
                                               "--probe-sequences", "1", "--probe-length", "8"], out: dump, model: tiny)
        XCTAssertTrue(outcome.succeeded, "\(outcome)")
        let snapshot = try DumpSnapshot(path: dump)
        XCTAssertEqual(snapshot.stringAttribute("/", "architecture"), "gemma3")
    }

    func testACaptureWithGradientsRuns() throws {
        let dump = scratch.path("grads.h5")
        let outcome = try CaptureTool.capture(["--tasks", "antonym", "--n", "2", "--shots", "1", "--probe-sequences", "0",
                                               "--grads", "gold-logprob"], out: dump, model: tiny)
        XCTAssertTrue(outcome.succeeded, "\(outcome)")
        let snapshot = try DumpSnapshot(path: dump)
        XCTAssertEqual(snapshot.stringAttribute("/", "gradient_metric"), "gold-logprob")
    }
}
