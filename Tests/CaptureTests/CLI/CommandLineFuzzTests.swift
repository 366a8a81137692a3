import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// Bad command lines as a new user types them: each fails with one line `error: ...` naming the
/// option, exit status 1, no trap, and nothing written at --out. Checks that need no model run
/// with a model path that does not exist, so an error about the model would show they came
/// too late.
final class CommandLineFuzzTests: XCTestCase {
    private var scratch: ScratchDirectory!
    private var out: String { scratch.path("out.h5") }
    private let absentModel = "/nonexistent/model.gguf"

    override func setUpWithError() throws {
        try CaptureTool.skipUnlessBuilt()
        scratch = try ScratchDirectory("fuzz")
    }

    override func tearDown() {
        scratch?.remove()
        super.tearDown()
    }

    private func assertRefused(_ arguments: [String], mentioning texts: [String],
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let outcome = try CaptureTool.run(arguments)
        XCTAssertTrue(outcome.exited, "died of a signal: \(outcome)", file: file, line: line)
        XCTAssertEqual(outcome.status, 1, "\(outcome)", file: file, line: line)
        XCTAssertEqual(outcome.errorLines.count, 1, "one line on stderr: \(outcome)", file: file, line: line)
        XCTAssertTrue(outcome.standardError.hasPrefix("error: "), "\(outcome)", file: file, line: line)
        for text in texts {
            XCTAssertTrue(outcome.standardError.contains(text), "stderr should mention \(text.debugDescription): \(outcome)",
                          file: file, line: line)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "\(out) was written: \(outcome)", file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + ".partial"), "\(outcome)", file: file, line: line)
    }

    /// `run` with the shipped tasks, before the model is needed.
    private func assertRunRefused(_ options: [String], mentioning texts: [String],
                                  file: StaticString = #filePath, line: UInt = #line) throws {
        try assertRefused(CaptureTool.runArguments(options, out: out, model: absentModel), mentioning: texts, file: file, line: line)
    }

    func testOptionValuesThatNeedNoModelFailBeforeLoadingIt() throws {
        let antonym = ["--tasks", "antonym"]
        try assertRunRefused(antonym + ["--n", "2147483648"], mentioning: ["--n 2147483648", "100000"])
        try assertRunRefused(antonym + ["--n", "0"], mentioning: ["--n 0"])
        try assertRunRefused(antonym + ["--n", "-3"], mentioning: ["--n -3"])
        try assertRunRefused(["--tasks", ""], mentioning: ["--tasks", "empty"])
        try assertRunRefused(["--tasks", ","], mentioning: ["--tasks", "empty"])
        try assertRunRefused(["--tasks", "antonym,,sentiment"], mentioning: ["--tasks", "empty"])
        try assertRunRefused(["--tasks", "all,antonym"], mentioning: ["all"])
        try assertRunRefused(["--tasks", "./absent_task.jsonl"], mentioning: ["./absent_task.jsonl", "no such task file"])
        try assertRunRefused(["--tasks", "no_such_task"], mentioning: ["no_such_task.jsonl", "no such task"])
        try assertRunRefused(antonym + ["--shots", "x"], mentioning: ["--shots", "'x'"])
        try assertRunRefused(antonym + ["--shots", "-1"], mentioning: ["--shots", "'-1'"])
        try assertRunRefused(antonym + ["--shots", "2,"], mentioning: ["--shots", "empty"])
        try assertRunRefused(antonym + ["--shots", "1000"], mentioning: ["antonym", "1000 shots"])
        try assertRunRefused(antonym + ["--variants", "clean,shuffled"], mentioning: ["--variants", "'shuffled'", "shuffled-labels"])
        try assertRunRefused(antonym + ["--variants", ""], mentioning: ["--variants", "empty"])
        try assertRunRefused(antonym + ["--templates", ""], mentioning: ["--templates", "empty"])
        try assertRunRefused(antonym + ["--top-k", "0"], mentioning: ["--top-k 0"])
        try assertRunRefused(antonym + ["--batch-tokens", "-5"], mentioning: ["--batch-tokens -5"])
        try assertRunRefused(antonym + ["--batch-tokens", "99999999999"], mentioning: ["--batch-tokens 99999999999"])
        try assertRunRefused(antonym + ["--probe-length", "0"], mentioning: ["--probe-length 0"])
        try assertRunRefused(antonym + ["--probe-sequences", "-1"], mentioning: ["--probe-sequences -1"])
        try assertRunRefused(antonym + ["--seed", "-1"], mentioning: ["--seed", "-1"])
        try assertRunRefused(antonym + ["--shard", "3/2"], mentioning: ["3/2"])
        try assertRunRefused(antonym + ["--shard", "0/100"], mentioning: ["--shard 0/100", "--n 50"])
        try assertRunRefused(antonym + ["--shard", "x"], mentioning: ["\"x\"", "i/n"])
        try assertRunRefused(antonym + ["--threads", "0"], mentioning: ["--threads"])
        try assertRunRefused(antonym + ["--tasks-dir", scratch.path("absent")], mentioning: [scratch.path("absent"), "--tasks-dir"])
        // What the plan would hold: every task, variant and shot count at the most prompts per set.
        try assertRunRefused(["--tasks", "all", "--n", "100000", "--shots", (1...16).map { String($0 * 4) }.joined(separator: ","),
                              "--variants", "clean,shuffled-labels,random-labels,abstract-labels,zero-shot"],
                             mentioning: ["prompt plan", "memory", "--n"])
    }

    func testOutputPathsAreCheckedBeforeTheModelLoads() throws {
        let antonym = ["--tasks", "antonym"]
        try assertRefused(["run", "--model", absentModel, "--out", ""] + antonym, mentioning: ["--out"])
        try assertRefused(["run", "--model", absentModel, "--out", scratch.url.path + "/folder/"] + antonym, mentioning: ["--out"])
        try assertRefused(["run", "--model", absentModel, "--out", scratch.url.path] + antonym, mentioning: [scratch.url.path, "folder"])
        try assertRefused(["run", "--model", absentModel, "--out", scratch.path("absent/x.h5")] + antonym,
                          mentioning: [scratch.path("absent/x.h5"), "not a folder"])
        let existing = scratch.path("existing.h5")
        try Data("x".utf8).write(to: URL(fileURLWithPath: existing))
        try assertRefused(["run", "--model", absentModel, "--out", existing] + antonym, mentioning: [existing, "--resume"])
    }

    func testOptionsTheModelBoundsFailBeforeTheDumpIsCreated() throws {
        let options = ["--tasks", "antonym", "--n", "3", "--shots", "2"]
        let model = CaptureTool.tinyModel    // vocabulary 503, context 256
        try assertRefused(CaptureTool.runArguments(options + ["--top-k", "10000000"], out: out, model: model),
                          mentioning: [model, "--top-k 10000000", "503"])
        try assertRefused(CaptureTool.runArguments(options + ["--probe-length", "100000"], out: out, model: model),
                          mentioning: [model, "--probe-length 100000", "context of 256", "at most 127"])
        // tiny-mistral: a 4-token window on every layer, so an induction target 4 or more tokens back is out of sight.
        let windowed = Fixtures.repositoryRoot.appendingPathComponent("Tests/Fixtures/models/tiny-mistral").path
        try assertRefused(CaptureTool.runArguments(options + ["--probe-length", "5"], out: out, model: windowed),
                          mentioning: [windowed, "--probe-length 5", "last 4 tokens", "at most 4"])
        let allowed = try CommandLineTool.run("icl-capture", CaptureTool.runArguments(
            options + ["--probe-length", "4", "--probe-sequences", "1"], out: scratch.path("window4.h5"), model: windowed))
        XCTAssertEqual(allowed.status, 0, allowed.standardError)
    }

    func testGenerationIsBoundedByTheContextUpFront() throws {
        let model = CaptureTool.tinyModel
        for count in ["9223372036854775807", "100000", "254"] {
            try assertRefused(["generate", "--model", model, "--prompt", "hi", "--max-new-tokens", count],
                              mentioning: ["--max-new-tokens \(count)", "context is 256", "at most 253"])
        }
        try assertRefused(["generate", "--model", model, "--prompt", "hi", "--max-new-tokens", "-1"], mentioning: ["--max-new-tokens"])
        try assertRefused(["generate", "--model", model, "--prompt", "", "--no-bos"], mentioning: ["--prompt", "no tokens"])
        try assertRefused(["logits", "--model", model, "--prompt", "", "--no-bos"], mentioning: ["--prompt", "no tokens"])
        try assertRefused(["logits", "--model", "", "--prompt", "hi"], mentioning: ["--model"])
        let fits = try CaptureTool.run(["generate", "--model", model, "--prompt", "hi", "--max-new-tokens", "3", "--json"])
        XCTAssertTrue(fits.succeeded, "\(fits)")
    }

    func testArgumentParserErrorsPrintAsOneLineToo() throws {
        try assertRefused(["run", "--model", absentModel, "--tasks", "antonym", "--out", out, "--dtype", "f8"], mentioning: ["f8"])
        try assertRefused(["run", "--model", absentModel, "--tasks", "antonym"], mentioning: ["--out"])
        try assertRefused(["no-such-command"], mentioning: ["no-such-command"])
        let help = try CaptureTool.run(["run", "--help"])
        XCTAssertTrue(help.succeeded && help.standardOutput.contains("Example"), "\(help)")
    }

    func testPackAndReportCheckTheirOutputsFirst() throws {
        let dump = scratch.path("d.h5")
        let capture = try CaptureTool.capture(["--tasks", "antonym", "--n", "2", "--shots", "1", "--probe-sequences", "0"], out: dump)
        XCTAssertTrue(capture.succeeded, "\(capture)")
        let before = try Data(contentsOf: URL(fileURLWithPath: dump))
        try assertRefused(["pack", dump, dump], mentioning: [dump, "the dump itself"])
        try assertRefused(["pack", dump, ""], mentioning: ["OUT"])
        try assertRefused(["pack", dump, scratch.path("absent/p.h5")], mentioning: ["not a folder"])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dump)), before)

        // The report's folder is checked before the dumps are read (this one does not exist).
        let file = scratch.path("file")
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        for (arguments, text) in [(["--out", file + "/report"], "not a folder"), (["--out", file], "is a file"),
                                  (["--out", scratch.path("r"), "--random-sets", "-1"], "--random-sets"),
                                  (["--out", scratch.path("r"), "--top", "-5%"], "--top")] {
            let result = try CommandLineTool.run("icl-analyze", ["report", scratch.path("absent.h5")] + arguments)
            XCTAssertEqual(result.status, 1, "\(arguments): \(result.standardError)")
            XCTAssertEqual(result.standardError.split(separator: "\n").count, 1, result.standardError)
            XCTAssertTrue(result.standardError.hasPrefix("error: ") && result.standardError.contains(text),
                          "\(arguments): \(result.standardError)")
        }
    }
}
