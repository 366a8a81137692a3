import Capture
import Foundation
import Shared
import XCTest

/// Malformed task files are refused with an error naming the file and the line.
final class TaskFileValidationTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = try PromptTestTasks.temporaryDirectory()
    }

    override func tearDownWithError() throws {
        try FileManager.default.removeItem(at: directory)
    }

    private let header = #"{"name": "t", "kind": "classification", "description": "d", "source": "s", "template": "qa", "labels": ["a", "b"]}"#

    private func pairs(_ count: Int) -> [String] {
        (0..<count).map { #"{"input": "x\#($0)", "output": "\#($0 % 2 == 0 ? "a" : "b")"}"# }
    }

    /// Writes `lines` to `<name>.jsonl` and returns the error loading it gives.
    private func loadError(_ lines: [String], name: String = "t") throws -> InputError {
        let url = directory.appendingPathComponent("\(name).jsonl")
        try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        do {
            _ = try TaskFile.load(from: url)
        } catch let error as InputError {
            XCTAssertEqual(error.file, url.path)
            return error
        }
        XCTFail("loading \(url.lastPathComponent) succeeded")
        throw CocoaError(.fileReadCorruptFile)
    }

    private func assertProblem(_ lines: [String], startsWith expected: String, file: StaticString = #filePath,
                               line: UInt = #line) throws {
        let error = try loadError(lines)
        XCTAssertTrue(error.problem.hasPrefix(expected), "got \"\(error.problem)\"", file: file, line: line)
    }

    func testAWellFormedFileLoads() throws {
        let url = directory.appendingPathComponent("t.jsonl")
        try ([header] + pairs(6)).joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        let task = try TaskFile.load(from: url)
        XCTAssertEqual(task.labels, ["a", "b"])
        XCTAssertEqual(task.pairs.count, 6)
        XCTAssertEqual(task.pairs[1], TaskPair(input: "x1", output: "b"))
    }

    func testMalformedJSONNamesFileAndLine() throws {
        var lines = [header] + pairs(20)
        lines[16] = #"{"input": "broken", "output": }"#
        let error = try loadError(lines)
        XCTAssertTrue(error.problem.hasPrefix("line 17: not valid JSON"), error.problem)
        XCTAssertTrue(error.description.hasPrefix("\(directory.path)/t.jsonl: line 17: "), error.description)
    }

    func testTrailingCommasAreRefusedAsJSONIs() throws {
        let trailingInObject = header.dropLast() + ", }"
        try assertProblem([String(trailingInObject)] + pairs(6), startsWith: "line 1: not valid JSON (a trailing comma at column")
        let trailingInList = header.replacingOccurrences(of: #"["a", "b"]"#, with: "[\"a\", \"b\",\t]")
        try assertProblem([trailingInList] + pairs(6), startsWith: "line 1: not valid JSON (a trailing comma")
        var lines = [header] + pairs(6)
        lines[3] = #"{"input": "x2", "output": "a",}"#
        try assertProblem(lines, startsWith: "line 4: not valid JSON (a trailing comma")
        // Commas and brackets inside strings, escaped quotes included, are text.
        let url = directory.appendingPathComponent("t.jsonl")
        lines[3] = #"{"input": "x2 ,} \",]", "output": "a"}"#
        try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        XCTAssertEqual(try TaskFile.load(from: url).pairs[2].input, #"x2 ,} ",]"#)
    }

    func testLineNumbersCountBlankLines() throws {
        try assertProblem([header, "", pairs(1)[0], "   ", "[1, 2]"], startsWith: "line 5: expected a JSON object")
    }

    func testUnknownKindIsRefused() throws {
        let bad = header.replacingOccurrences(of: "classification", with: "regression")
        try assertProblem([bad] + pairs(2), startsWith: "line 1: unknown kind \"regression\"")
    }

    func testUnknownTemplateIsRefused() throws {
        let bad = header.replacingOccurrences(of: #""qa""#, with: #""nope""#)
        try assertProblem([bad] + pairs(2), startsWith: "line 1: unknown template \"nope\"")
    }

    func testOutputOutsideTheLabelsNamesItsLine() throws {
        try assertProblem([header] + pairs(3) + [#"{"input": "z", "output": "c"}"#],
                          startsWith: "line 5: output \"c\" is not one of the labels")
    }

    func testEmptyTaskIsRefused() throws {
        try assertProblem([header, ""], startsWith: "no pairs after the header on line 1")
        let error = try loadError([])
        XCTAssertTrue(error.problem.hasPrefix("the file is empty"), error.problem)
    }

    func testDuplicateLabelsAreRefused() throws {
        let bad = header.replacingOccurrences(of: #"["a", "b"]"#, with: #"["a", "b", "a"]"#)
        try assertProblem([bad] + pairs(2), startsWith: "line 1: duplicate label \"a\"")
    }

    func testRepeatedInputNamesBothLines() throws {
        let error = try loadError([header] + pairs(3) + [#"{"input": "x1", "output": "a"}"#])
        XCTAssertEqual(error.problem, "line 5: input \"x1\" appears twice (first at line 3)")
    }

    func testMisspeltFieldsAreRefused() throws {
        try assertProblem([header.replacingOccurrences(of: "labels", with: "lables")] + pairs(2),
                          startsWith: "line 1: unknown header field \"lables\"")
        try assertProblem([header, #"{"input": "x", "outptu": "a"}"#], startsWith: "line 2: unknown field \"outptu\"")
    }

    func testNameMustMatchTheFileName() throws {
        let error = try loadError([header] + pairs(2), name: "other")
        XCTAssertTrue(error.problem.hasPrefix("line 1: name \"t\" differs"), error.problem)
    }

    func testOpenTasksTakeNoLabels() throws {
        let open = header.replacingOccurrences(of: "classification", with: "open")
        try assertProblem([open] + pairs(2), startsWith: "line 1: labels are only for classification tasks")
    }

    func testCustomTemplatesAreCheckedAndUsable() throws {
        let custom = header.replacingOccurrences(of: #""template": "qa""#, with:
            #""template": "eq", "templates": {"eq": {"input": "{x} ="}}"#)
        let url = directory.appendingPathComponent("t.jsonl")
        try ([custom] + pairs(4)).joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        let task = try TaskFile.load(from: url)
        XCTAssertEqual(task.template(named: "eq")?.output, " {y}")
        let set = try PromptBuilder(task: task).build(PromptSetSpec(task: "t", shots: 1, count: 1, seed: 1))
        XCTAssertTrue(set.prompts[0].text.hasSuffix(" ="), set.prompts[0].text)

        let broken = header.replacingOccurrences(of: #""template": "qa""#, with:
            #""template": "qa", "templates": {"eq": {"input": "no placeholder"}}"#)
        try assertProblem([broken] + pairs(2), startsWith: "line 1: template \"eq\": input format must contain {x}")
    }
}
