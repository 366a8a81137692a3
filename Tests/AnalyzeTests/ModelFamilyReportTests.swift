import Analyze
import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// Every model family the engine runs gives a dump the analyzer reads: a small real capture of
/// each tiny fixture model passes `icl-analyze check` (its components reproduce the stored
/// label logits through whatever norms the family has), the numpy reference's self-test, and
/// its comparison with the family's report at 1e-5 (LayerNorm final norms of GPT-2 and NeoX,
/// computed independently); one report over all of them compares the models by layer depth.
final class ModelFamilyReportTests: XCTestCase {
    /// One tiny fixture model per family (and per norm or attention variant of one).
    static let families = ["tiny-llama3", "tiny-qwen2", "tiny-mistral", "tiny-gpt2", "tiny-neox", "tiny-gemma3"]
    /// tiny-mistral's and tiny-gemma3's sliding windows are 4 tokens: an induction target R - 1 tokens back must
    /// fall inside it, or every head's induction score is 0.
    static let probeLength = ["tiny-mistral": 3, "tiny-gemma3": 3]

    func testEveryFamilysDumpPassesTheCheckAndTheyCompareByDepth() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("families-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        var dumps: [String] = []
        let python = PythonStack.find()
        if python == nil { print("numpy reference skipped: no Python with h5py and numpy (scripts/setup-python-tests)") }
        for family in Self.families {
            let dump = path("\(family).h5")
            var configuration = TinyCapture.configuration()
            configuration.probeLength = Self.probeLength[family] ?? configuration.probeLength
            try TinyCapture.write(to: dump, configuration: configuration, modelSHA256: family, model: family)
            let check = try CommandLineTool.run("icl-analyze", ["check", dump])
            XCTAssertEqual(check.status, 0, "\(family): \(check.standardError)\n\(check.standardOutput)")
            XCTAssertTrue(check.standardOutput.contains("all checks passed"), "\(family): \(check.standardOutput)")
            // Gemma 3 normalises its attention output: the check recomputes that norm's stored scales.
            XCTAssertEqual(check.standardOutput.contains("output norm"), family == "tiny-gemma3", "\(family): \(check.standardOutput)")
            if let python {
                let selfTest = NumpyReference.selfTest([dump], python: python, out: path("\(family)-reference"))
                XCTAssertEqual(selfTest.status, 0, "\(family): numpy self-test failed:\n\(selfTest.output)")
                let report = path("\(family)-report")
                let analyze = try CommandLineTool.run("icl-analyze", ["report", dump, "--out", report, "--random-sets", "4", "--per-prompt"])
                XCTAssertEqual(analyze.status, 0, "\(family): \(analyze.standardError)")
                let compared = NumpyReference.compare([dump], report: report, python: python)
                XCTAssertEqual(compared.status, 0, "\(family): numpy reference disagrees:\n\(compared.output)")
                XCTAssertTrue(compared.output.contains("every done prompt x head once"), "\(family): \(compared.output)")
            }
            dumps.append(dump)
        }
        let out = path("report")
        let report = try CommandLineTool.run("icl-analyze", ["report"] + dumps + ["--out", out, "--random-sets", "2"])
        XCTAssertEqual(report.status, 0, report.standardError)
        let depth = try String(contentsOfFile: out + "/depth.csv", encoding: .utf8)
        for family in Self.families {
            XCTAssertTrue(depth.contains("\(family).h5,"), "\(family) is missing from depth.csv:\n\(depth)")
        }
    }

    /// A probe whose repeat lies outside a sliding window on every layer (which `icl-capture run`
    /// refuses up front) gives all-zero induction scores: the check fails and says why.
    func testAllZeroInductionScoresNameTheSlidingWindow() throws {
        let dump = FileManager.default.temporaryDirectory.appendingPathComponent("window-\(UUID().uuidString).h5").path
        defer { try? FileManager.default.removeItem(atPath: dump) }
        var configuration = TinyCapture.configuration()
        configuration.probeLength = 10
        try TinyCapture.write(to: dump, configuration: configuration, modelSHA256: "tiny-mistral", model: "tiny-mistral")
        let check = try CommandLineTool.run("icl-analyze", ["check", dump])
        XCTAssertEqual(check.status, 1, check.standardOutput)
        XCTAssertTrue(check.standardError.contains("every head's induction score is the same (0: no head attends to the token 9 back; a sliding window of fewer than 10 tokens"),
                      check.standardError)
    }
}
