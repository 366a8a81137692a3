import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// One realistic capture with the default model (SmolLM2-135M-Instruct, GGUF; skipped when
/// models/ does not have it): a few prompts of a classification and an open task, checked by
/// the Python reader (schema, dims, DLA identity, attention) and for single-token labels.
final class SmolLM2CaptureSmokeTests: XCTestCase {
    func testCaptureWithTheDefaultModelIsReadableAndConsistent() throws {
        try CaptureTool.skipUnlessBuilt()
        guard let modelURL = Fixtures.defaultModel else {
            throw XCTSkip("models/SmolLM2-135M-Instruct.Q4_1.gguf is not there (scripts/setup-model downloads it)")
        }
        let scratch = try ScratchDirectory("smollm2")
        defer { scratch.remove() }
        let out = scratch.path("smollm2.h5")
        let outcome = try CaptureTool.capture(["--tasks", "sentiment,antonym", "--shots", "4", "--n", "3",
                                               "--variants", "clean,zero-shot", "--positions", "labels",
                                               "--probe-sequences", "2", "--probe-length", "16"],
                                              out: out, model: modelURL.path)
        XCTAssertTrue(outcome.succeeded, "\(outcome)")
        guard outcome.succeeded else { return }
        print("SmolLM2 capture: \(String(format: "%.2f", outcome.seconds)) s: \(outcome.standardOutput)")
        let dump = try DumpSnapshot(path: out)
        XCTAssertEqual(dump.stringAttribute("/", "model_format"), "GGUF")
        for name in dump.groupNames(under: "/sets") {
            let group = "/sets/" + name
            XCTAssertTrue(try dump.dataset(group + "/done").numbers.allSatisfy { $0 == 1 }, name)
            XCTAssertTrue(try dump.dataset(group + "/gold_logprob").numbers.allSatisfy { $0.isFinite && $0 <= 0 }, name)
            if name.hasPrefix("sentiment.") {
                // The shipped tasks are made so that every label is one distinct SmolLM2 token.
                XCTAssertEqual(dump.attributes[group]?["multi_token_labels"], .ints([0, 0]), name)
                XCTAssertEqual(dump.intAttribute(group, "shared_first_token"), 0, name)
            }
        }
        guard let python = PythonStack.find() else { return }
        let script = Fixtures.repositoryRoot.appendingPathComponent("Tests/Python/test_dump.py").path
        let result = PythonStack.run(python, ["-m", "pytest", "-q", "-p", "no:cacheprovider", script],
                                     environment: ["ICL_DUMP_FILE": out, "ICL_SCHEMA_FILE": CaptureTool.schemaFile])
        XCTAssertEqual(result.status, 0, "pytest on the SmolLM2 dump:\n\(result.output)")
    }
}
