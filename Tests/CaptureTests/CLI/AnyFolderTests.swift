import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// The tools as a user runs them outside the checkout: installed by scripts/install, the
/// shipped tasks found from the binary, task files named by path, and the commit the binary
/// was built from in the dump, whatever folder (or repository) the capture runs in.
final class AnyFolderTests: XCTestCase {
    private var scratch: ScratchDirectory!
    private let small = ["--n", "3", "--shots", "2", "--probe-sequences", "0"]

    override func setUpWithError() throws {
        try CaptureTool.skipUnlessBuilt()
        scratch = try ScratchDirectory("any-folder")
    }

    override func tearDown() {
        scratch?.remove()
        super.tearDown()
    }

    private struct Run: CustomStringConvertible {
        let status: Int32
        let output: String
        let error: String
        var description: String { "exit \(status)\n  stderr: \(error.prefix(800))\n  stdout: \(output.prefix(400))" }
    }

    /// Runs `executable` in `folder`, with `environment` replacing the inherited one when given.
    private func run(_ executable: URL, _ arguments: [String], in folder: URL,
                     environment: [String: String]? = nil) throws -> Run {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = folder
        if let environment { process.environment = environment }
        let output = Pipe(), error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        let errData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, output: String(decoding: outData, as: UTF8.self),
                   error: String(decoding: errData, as: UTF8.self))
    }

    private func git(_ arguments: [String], in folder: URL) throws -> Run {
        try run(URL(fileURLWithPath: "/usr/bin/env"), ["git"] + arguments, in: folder)
    }

    private func folder(_ name: String) throws -> URL {
        let url = scratch.url.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func testInstalledToolsCaptureAndAnalyzeFromAnotherRepositoryRecordingTheBuildsCommit() throws {
        let prefix = scratch.url.appendingPathComponent("prefix")
        let install = try run(Fixtures.repositoryRoot.appendingPathComponent("scripts/install"),
                              ["--built", CommandLineTool.productsDirectory.path, prefix.path], in: scratch.url)
        XCTAssertEqual(install.status, 0, "\(install)")
        let capture = prefix.appendingPathComponent("bin/icl-capture")
        let analyze = prefix.appendingPathComponent("bin/icl-analyze")
        XCTAssertTrue(FileManager.default.fileExists(atPath: prefix.appendingPathComponent("share/icl-heads/tasks/antonym.jsonl").path))

        // A folder that is a git repository of its own, and no git on PATH for the capture:
        // the dump must still name the commit the binary was built from.
        let elsewhere = try folder("elsewhere")
        var elsewhereCommit: String?
        if try git(["init", "-q"], in: elsewhere).status == 0 {
            _ = try git(["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "x"], in: elsewhere)
            elsewhereCommit = try git(["rev-parse", "HEAD"], in: elsewhere).output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let result = try run(capture, ["run", "--model", CaptureTool.tinyModel, "--tasks", "antonym", "--out", "x.h5"] + small,
                             in: elsewhere, environment: ["PATH": "/nonexistent"])
        XCTAssertEqual(result.status, 0, "\(result)")
        let dump = elsewhere.appendingPathComponent("x.h5").path
        let commit = try XCTUnwrap(try DumpSnapshot(path: dump).stringAttribute("/", "git_commit"))
        let version = try run(capture, ["--version"], in: elsewhere)
        XCTAssertTrue(version.output.contains("commit \(commit)"), "--version \(version.output) vs dump \(commit)")
        if let elsewhereCommit { XCTAssertFalse(commit.hasPrefix(elsewhereCommit), "the dump names the folder's repository") }
        let head = try git(["rev-parse", "HEAD"], in: Fixtures.repositoryRoot)
        if head.status == 0 {
            let expected = head.output.trimmingCharacters(in: .whitespacesAndNewlines)
            XCTAssertTrue(commit.hasPrefix(expected), "dump: \(commit), checkout: \(expected) (rebuild after committing)")
        } else {
            XCTAssertEqual(commit, "unknown")
        }

        let info = try run(analyze, ["info", "x.h5"], in: elsewhere)
        XCTAssertEqual(info.status, 0, "\(info)")
        XCTAssertTrue(info.output.contains("antonym.clean.k2.qa"), "\(info)")
    }

    func testMissingTasksFolderSaysWhereItLookedAndTaskFilesByPathNeedNone() throws {
        // The binary alone, away from both an install prefix and the repository.
        let bin = try folder("lone/bin")
        let binary = bin.appendingPathComponent("icl-capture")
        try FileManager.default.copyItem(at: CaptureTool.executable, to: binary)
        let work = try folder("work")
        let missing = try run(binary, ["run", "--model", CaptureTool.tinyModel, "--tasks", "antonym", "--out", "x.h5"] + small, in: work)
        XCTAssertEqual(missing.status, 1, "\(missing)")
        XCTAssertEqual(missing.error.split(separator: "\n").count, 1, "\(missing)")
        for text in ["looked in", scratch.url.appendingPathComponent("lone/share/icl-heads/tasks").path, "--tasks-dir"] {
            XCTAssertTrue(missing.error.contains(text), "stderr lacks \(text): \(missing)")
        }
        XCTAssertFalse(missing.error.contains("(known: )"), "\(missing)")

        let antonym = CaptureTool.tasksDirectory + "/antonym.jsonl"
        let byPath = try run(binary, ["run", "--model", CaptureTool.tinyModel, "--tasks", antonym, "--out", "x.h5"] + small, in: work)
        XCTAssertEqual(byPath.status, 0, "\(byPath)")
        let sets = try DumpSnapshot(path: work.appendingPathComponent("x.h5").path).groupNames(under: "/sets")
        XCTAssertEqual(sets, ["antonym.clean.k2.qa", "antonym.shuffled_labels.k2.qa", "antonym.zero_shot.k0.qa"])
    }

    func testTaskFilesByPathMixWithShippedTaskNames() throws {
        let work = try folder("work")
        let sentiment = try String(contentsOfFile: CaptureTool.tasksDirectory + "/sentiment.jsonl", encoding: .utf8)
        try Data(sentiment.replacingOccurrences(of: "\"name\": \"sentiment\"", with: "\"name\": \"my_task\"").utf8)
            .write(to: work.appendingPathComponent("my_task.jsonl"))
        // No --tasks-dir: antonym comes from the repository's tasks/, found from the binary.
        let result = try run(CaptureTool.executable, ["run", "--model", CaptureTool.tinyModel, "--tasks", "./my_task.jsonl,antonym",
                                                      "--variants", "clean", "--out", "x.h5"] + small, in: work)
        XCTAssertEqual(result.status, 0, "\(result)")
        let sets = try DumpSnapshot(path: work.appendingPathComponent("x.h5").path).groupNames(under: "/sets")
        XCTAssertEqual(sets, ["antonym.clean.k2.qa", "my_task.clean.k2.sentiment"])
    }

    func testShippedTasksAreLookedForBesideTheInstalledBinaryThenInTheRepository() {
        XCTAssertEqual(ShippedTasks.candidates(executable: URL(fileURLWithPath: "/opt/icl/bin/icl-capture")).map(\.path),
                       ["/opt/icl/share/icl-heads/tasks"])
        XCTAssertEqual(ShippedTasks.candidates(executable: URL(fileURLWithPath: "/src/icl/.build/x86_64-unknown-linux-gnu/release/icl-capture")).map(\.path),
                       ["/src/icl/.build/x86_64-unknown-linux-gnu/share/icl-heads/tasks", "/src/icl/tasks"])
        XCTAssertEqual(ShippedTasks.locate(executable: CaptureTool.executable)?.path,
                       Fixtures.repositoryRoot.appendingPathComponent("tasks").standardizedFileURL.path)
    }

    func testVariantsAreAcceptedInTheCommandLinesSpellingAndTheDumps() throws {
        for variant in PromptVariant.allCases {
            XCTAssertEqual(PromptVariant(argument: variant.argumentName), variant)
            XCTAssertEqual(PromptVariant(argument: variant.dumpName), variant)
        }
        XCTAssertEqual(PromptVariant.shuffledLabels.argumentName, "shuffled-labels")
        XCTAssertNil(PromptVariant(argument: "shuffled labels"))

        let out = scratch.path("x.h5")
        let result = try CaptureTool.capture(["--tasks", "sentiment", "--variants", "shuffled_labels,random-labels,abstract_labels,zero_shot"] + small,
                                             out: out)
        XCTAssertTrue(result.succeeded, "\(result)")
        XCTAssertEqual(try DumpSnapshot(path: out).groupNames(under: "/sets"),
                       ["sentiment.abstract_labels.k2.sentiment", "sentiment.random_labels.k2.sentiment",
                        "sentiment.shuffled_labels.k2.sentiment", "sentiment.zero_shot.k0.sentiment"])
    }
}
