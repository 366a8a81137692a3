import Foundation
import Shared
import TestSupport
import XCTest

/// icl-analyze against an independent numpy + h5py implementation of the same definitions
/// (reference/analyze_reference.py, through reference/check_analysis.py) on real SmolLM2
/// captures with gradients (--grads gold-logprob): TR, TL, DLA, attention categories, induction
/// scores, top sets, every ablation estimate (direct effect and attribution patching, §20), the
/// first-order CIE and every per-prompt value (--per-prompt) agree to 1e-5 relative, for a whole
/// capture and for its shards (whose CIE means are per shard).
final class AnalyzeInteropTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("interop-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    private func capture(_ out: String, shard: String? = nil, model: URL) throws {
        var arguments = ["run", "--model", model.path, "--tasks", "antonym,sentiment", "--variants", "clean,shuffled-labels",
                         "--shots", "4", "--n", "12", "--seed", "1", "--probe-sequences", "4", "--grads", "gold-logprob", "--out", out]
        if let shard { arguments += ["--shard", shard] }
        let result = try CommandLineTool.run("icl-capture", arguments)
        XCTAssertEqual(result.status, 0, result.standardError)
    }

    private func compare(_ dumps: [String], report name: String, python: String) throws {
        let report = path(name)
        let analyze = try CommandLineTool.run("icl-analyze", ["report"] + dumps + ["--out", report, "--random-sets", "20", "--per-prompt"])
        XCTAssertEqual(analyze.status, 0, analyze.standardError)
        let check = NumpyReference.compare(dumps, report: report, python: python)
        print(check.output)
        XCTAssertEqual(check.status, 0, "numpy reference disagrees:\n\(check.output)")
        XCTAssertTrue(check.output.contains("every done prompt x head once"), "per-prompt values not compared:\n\(check.output)")
        for column in ["cie_atp", "atp_delta_gold_logprob_answer", "atp_delta_gold_logprob_all"] {
            XCTAssertTrue(check.output.contains(column), "\(column) not compared:\n\(check.output)")
        }
    }

    func testSwiftAndNumpyAgreeOnARealCaptureAndItsShards() throws {
        guard let model = Fixtures.defaultModel else { throw XCTSkip("no default model (scripts/setup-model)") }
        guard let python = PythonStack.find() else {
            throw XCTSkip("no Python with h5py and numpy (scripts/setup-python-tests)")
        }
        try capture(path("whole.h5"), model: model)
        try compare([path("whole.h5")], report: "whole", python: python)
        try capture(path("s0.h5"), shard: "0/2", model: model)
        try capture(path("s1.h5"), shard: "1/2", model: model)
        try compare([path("s0.h5"), path("s1.h5")], report: "sharded", python: python)
    }
}
