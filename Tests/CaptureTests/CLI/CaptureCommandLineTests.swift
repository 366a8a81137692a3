import Capture
import Foundation
import TestSupport
import XCTest

/// icl-capture as a user runs it: JSON outputs, BOS options, help, and bad input.
final class CaptureCommandLineTests: XCTestCase {
    private let tinyModel = Fixtures.url("models/tiny-qwen2").path
    private var scratch: URL!

    override func setUpWithError() throws {
        let tool = CommandLineTool.productsDirectory.appendingPathComponent("icl-capture")
        guard FileManager.default.isExecutableFile(atPath: tool.path) else {
            throw XCTSkip("icl-capture is not built next to the tests (swift build --build-tests builds it)")
        }
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("cli-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let scratch { try? FileManager.default.removeItem(at: scratch) }
    }

    private func capture(_ arguments: String...) throws -> CommandLineTool.Result {
        try CommandLineTool.run("icl-capture", arguments)
    }

    private func json(_ text: String) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], text)
    }

    func testTokenizeJSONGivesTheTokenizersIDsAndHonoursBOSOptions() throws {
        let tokenizer = try ModelLoader.load(path: Fixtures.url("models/tiny-llama3").path).tokenizer
        let text = "Q: hot\nA: cold 123"
        for (flag, addBOS) in [(nil, tokenizer.addsBOSByDefault), ("--bos", true), ("--no-bos", false)] {
            let arguments = ["tokenize", "--model", Fixtures.url("models/tiny-llama3").path, "--text", text, "--json"] + (flag.map { [$0] } ?? [])
            let result = try CommandLineTool.run("icl-capture", arguments)
            XCTAssertEqual(result.status, 0, result.standardError)
            let ids = try XCTUnwrap(try json(result.standardOutput)["ids"] as? [Int])
            XCTAssertEqual(ids.map(Int32.init), tokenizer.encode(text, addBOS: addBOS), "\(flag ?? "default")")
        }
    }

    func testLogitsJSONListsTheTopTokensWithFullVocabularyLogProbabilities() throws {
        let result = try capture("logits", "--model", tinyModel, "--prompt", "Q: big\nA:", "--top", "4", "--json", "--threads", "1")
        XCTAssertEqual(result.status, 0, result.standardError)
        let report = try json(result.standardOutput)
        let ids = try XCTUnwrap(report["ids"] as? [Int])
        let top = try XCTUnwrap(report["top"] as? [[String: Any]])
        XCTAssertEqual(top.count, 4)
        let model = try ModelLoader.load(path: tinyModel)
        let logits = try model.transformer.forward(tokens: ids.map(Int32.init)).lastLogits(of: 0)
        let expected = LogitStatistics.topIndices(logits, count: 4)
        XCTAssertEqual(top.compactMap { $0["id"] as? Int }, expected)
        let logprobs = top.compactMap { ($0["logprob"] as? NSNumber)?.doubleValue }
        XCTAssertEqual(logprobs, logprobs.sorted(by: >))
        XCTAssertTrue(logprobs.allSatisfy { $0 <= 0 })
        XCTAssertNotNil(top.first?["token"] as? String)
    }

    func testEveryCommandHasHelpWithAnExample() throws {
        for command in ["inspect", "tokenize", "logits", "generate"] {
            let result = try capture(command, "--help")
            XCTAssertEqual(result.status, 0)
            XCTAssertTrue(result.standardOutput.contains("Example"), "\(command) --help has no example")
            XCTAssertTrue(result.standardOutput.contains("--model"), command)
        }
    }

    /// One line on stderr naming the file, a non-zero exit, no trap.
    private func assertCleanFailure(_ model: String, mentioning text: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try capture("logits", "--model", model, "--prompt", "hi")
        XCTAssertNotEqual(result.status, 0, file: file, line: line)
        let lines = result.standardError.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, result.standardError, file: file, line: line)
        XCTAssertTrue(result.standardError.contains(model), result.standardError, file: file, line: line)
        XCTAssertTrue(result.standardError.contains(text), result.standardError, file: file, line: line)
        XCTAssertEqual(result.standardOutput, "", file: file, line: line)
    }

    func testBadModelPathsAndFilesFailWithOneLineNamingTheFile() throws {
        try assertCleanFailure(scratch.appendingPathComponent("absent.gguf").path, mentioning: "no such file")

        let foreign = scratch.appendingPathComponent("notes.txt")
        try Data("hello".utf8).write(to: foreign)
        try assertCleanFailure(foreign.path, mentioning: "not a GGUF file")

        let small = try Data(contentsOf: Fixtures.url("gguf/small.gguf"))
        let truncated = scratch.appendingPathComponent("truncated.gguf")
        try small.prefix(small.count / 3).write(to: truncated)
        try assertCleanFailure(truncated.path, mentioning: "truncated.gguf")
        try assertCleanFailure(Fixtures.url("gguf/small.gguf").path, mentioning: "unsupported architecture")
    }

    func testBrokenHuggingFaceFoldersFailWithOneLineNamingTheFile() throws {
        let folder = scratch.appendingPathComponent("model")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: tinyModel), to: folder)
        try FileManager.default.removeItem(at: folder.appendingPathComponent("tokenizer.json"))
        try assertCleanFailure(folder.path, mentioning: "tokenizer")

        try FileManager.default.removeItem(at: folder)
        try FileManager.default.copyItem(at: URL(fileURLWithPath: tinyModel), to: folder)
        let weights = folder.appendingPathComponent("model.safetensors")
        let bytes = try Data(contentsOf: weights)
        try bytes.prefix(bytes.count - 100).write(to: weights)
        try assertCleanFailure(folder.path, mentioning: "model.safetensors")

        try FileManager.default.removeItem(at: folder)
        try FileManager.default.copyItem(at: URL(fileURLWithPath: tinyModel), to: folder)
        let config = folder.appendingPathComponent("config.json")
        let text = try String(contentsOf: config, encoding: .utf8).replacingOccurrences(of: "\"qwen2\"", with: "\"gpt_neox\"")
        try Data(text.utf8).write(to: config)
        try assertCleanFailure(folder.path, mentioning: "gpt_neox")
    }
}
