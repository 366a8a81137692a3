import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// Bad input to `icl-capture run`: one line on stderr naming the file and the problem, a
/// non-zero exit (not a signal), and nothing left at --out (nor its temporary name).
final class CaptureBadInputTests: XCTestCase {
    private var scratch: ScratchDirectory!

    override func setUpWithError() throws {
        try CaptureTool.skipUnlessBuilt()
        scratch = try ScratchDirectory("bad-input")
    }

    override func tearDown() {
        scratch?.remove()
        super.tearDown()
    }

    private let small = ["--n", "3", "--shots", "2", "--probe-sequences", "0"]

    @discardableResult
    private func assertCleanFailure(_ arguments: [String], out: String, mentioning texts: [String],
                                    file: StaticString = #filePath, line: UInt = #line) throws -> CaptureTool.Outcome {
        let outcome = try CaptureTool.run(arguments)
        XCTAssertTrue(outcome.exited, "died of a signal: \(outcome)", file: file, line: line)
        XCTAssertNotEqual(outcome.status, 0, "\(outcome)", file: file, line: line)
        XCTAssertEqual(outcome.errorLines.count, 1, "one line on stderr: \(outcome)", file: file, line: line)
        for text in texts {
            XCTAssertTrue(outcome.standardError.contains(text), "stderr should mention \(text.debugDescription): \(outcome)", file: file, line: line)
        }
        XCTAssertFalse(outcome.standardError.contains("Fatal error") || outcome.standardError.contains("Backtrac"),
                       "\(outcome)", file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "\(out) was left behind", file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + ".partial"), "\(out).partial was left behind", file: file, line: line)
        return outcome
    }

    func testMalformedTaskFileNamesTheFileAndLine() throws {
        let tasks = scratch.url.appendingPathComponent("tasks")
        try FileManager.default.createDirectory(at: tasks, withIntermediateDirectories: true)
        let lines = try String(contentsOfFile: CaptureTool.tasksDirectory + "/antonym.jsonl", encoding: .utf8)
            .split(separator: "\n").prefix(8).map(String.init)
        let broken = lines[0].replacingOccurrences(of: "\"antonym\"", with: "\"broken\"")
        var text = ([broken] + lines[1...3]).joined(separator: "\n") + "\n"
        text += "{\"input\": \"warm\", \"output\": \n"                     // line 5: not JSON
        text += lines[4...].joined(separator: "\n") + "\n"
        let taskFile = tasks.appendingPathComponent("broken.jsonl")
        try Data(text.utf8).write(to: taskFile)
        let out = scratch.path("out.h5")
        let arguments = ["run", "--model", CaptureTool.tinyModel, "--tasks-dir", tasks.path, "--tasks", "broken",
                         "--out", out] + small
        try assertCleanFailure(arguments, out: out, mentioning: [taskFile.path, "line 5"])

        // A pair with a field the format does not have.
        text = ([broken] + lines[1...3]).joined(separator: "\n") + "\n{\"input\": \"a\", \"output\": \"b\", \"extra\": 1}\n"
        try Data(text.utf8).write(to: taskFile)
        try assertCleanFailure(arguments, out: out, mentioning: [taskFile.path, "line 5"])
    }

    func testUnknownTaskNameIsRefused() throws {
        let out = scratch.path("out.h5")
        try assertCleanFailure(CaptureTool.runArguments(["--tasks", "antonym,no_such_task"] + small, out: out),
                               out: out, mentioning: ["no_such_task.jsonl", "no such task"])
    }

    func testUnknownTemplateIsRefused() throws {
        let out = scratch.path("out.h5")
        try assertCleanFailure(CaptureTool.runArguments(["--tasks", "antonym", "--templates", "nonesuch"] + small, out: out),
                               out: out, mentioning: ["antonym", "unknown template \"nonesuch\""])
    }

    func testPromptLongerThanTheContextIsRefused() throws {
        // tiny-llama3 has a context of 256 tokens; 40 antonym demonstrations are about 600.
        let out = scratch.path("out.h5")
        try assertCleanFailure(CaptureTool.runArguments(["--tasks", "antonym", "--shots", "40", "--n", "2", "--probe-sequences", "0"], out: out),
                               out: out, mentioning: ["antonym.jsonl", "context of 256"])
    }

    func testUnwritableOutputPathsAreRefused() throws {
        // Tests run as root, so permissions do not stop a write: use a path under a regular file.
        for out in ["/etc/hostname/x.h5", scratch.path("no/such/folder/x.h5")] {
            try assertCleanFailure(CaptureTool.runArguments(["--tasks", "antonym"] + small, out: out),
                                   out: out, mentioning: [out])
        }
    }

    func testExistingOutputIsRefusedWithoutResumeAndLeftUntouched() throws {
        let out = scratch.path("out.h5")
        let first = try CaptureTool.capture(["--tasks", "antonym"] + small, out: out)
        XCTAssertTrue(first.succeeded, "\(first)")
        let before = try Data(contentsOf: URL(fileURLWithPath: out))
        let again = try CaptureTool.capture(["--tasks", "antonym", "--seed", "2"] + small, out: out)
        XCTAssertTrue(again.exited && again.status != 0, "\(again)")
        XCTAssertEqual(again.errorLines.count, 1, "\(again)")
        XCTAssertTrue(again.standardError.contains(out) && again.standardError.contains("--resume"), "\(again)")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out)), before, "the existing dump was changed")
    }

    /// A full disk: a 64 KiB tmpfs (needs root and mount; skipped where that is not allowed).
    func testFullDiskFailsCleanly() throws {
        let mountPoint = scratch.url.appendingPathComponent("full")
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        let mount = PythonStack.run("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", mountPoint.path])
        guard mount.status == 0 else { throw XCTSkip("cannot mount a small tmpfs here: \(mount.output)") }
        defer { _ = PythonStack.run("umount", [mountPoint.path]) }
        let out = mountPoint.appendingPathComponent("dump.h5").path
        try assertCleanFailure(CaptureTool.runArguments(["--tasks", "sentiment,antonym", "--n", "6", "--shots", "3",
                                                         "--probe-sequences", "3", "--probe-length", "20"], out: out),
                               out: out, mentioning: [out, "free"])
    }
}
