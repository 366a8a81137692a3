import Foundation
import Shared

extension TaskFile {
    /// Reads and validates `tasks/<name>.jsonl`. Problems are `InputError`s whose message
    /// names the file as given and the line: "tasks/x.jsonl: line 17: ...". The header's
    /// `name` must be the file's name without `.jsonl`.
    public static func load(from url: URL) throws -> TaskFile {
        let shownPath = url.isFileURL ? url.relativePath : url.absoluteString
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw InputError(file: shownPath, "cannot read the task file")
        }
        let stem = url.deletingPathExtension().lastPathComponent
        let task = try parse(data, file: shownPath)
        if task.name != stem {
            throw InputError(file: shownPath, "line 1: name \"\(task.name)\" differs from the file name \(url.lastPathComponent)")
        }
        return task
    }

    /// Parses and validates task-file contents; `file` is the name errors give.
    public static func parse(_ data: Data, file: String) throws -> TaskFile {
        var lines = TaskFileLines(data: data, file: file)
        guard let (headerLine, headerObject) = try lines.nextObject() else {
            throw InputError(file: file, "the file is empty: expected a header line and pairs")
        }
        let header = try TaskHeader(headerObject, line: headerLine, file: file)
        var pairs: [TaskPair] = []
        var pairLines: [Int] = []
        while let (line, object) = try lines.nextObject() {
            pairs.append(try pair(from: object, line: line, file: file))
            pairLines.append(line)
        }
        if pairs.isEmpty {
            throw InputError(file: file, "no pairs after the header on line \(headerLine)")
        }
        do {
            return try TaskFile(validating: header.name, kind: header.kind, description: header.description,
                                source: header.source, defaultTemplate: header.template, labels: header.labels,
                                customTemplates: header.templates, pairs: pairs)
        } catch let problem as TaskProblem {
            throw InputError(file: file, problem.describe(header: "line \(headerLine)") { "line \(pairLines[$0])" })
        }
    }

    private static func pair(from object: [String: Any], line: Int, file: String) throws -> TaskPair {
        func fail(_ problem: String) -> InputError { InputError(file: file, "line \(line): \(problem)") }
        if let unknown = Set(object.keys).subtracting(["input", "output"]).sorted().first {
            throw fail("unknown field \"\(unknown)\" (a pair has only input and output)")
        }
        guard let input = object["input"] as? String else { throw fail("a pair needs a string \"input\"") }
        guard let output = object["output"] as? String else { throw fail("a pair needs a string \"output\"") }
        return TaskPair(input: input, output: output)
    }
}

/// The header object of a task file, its fields type-checked.
private struct TaskHeader {
    let name: String
    let kind: TaskKind
    let description: String
    let source: String
    let template: String
    let labels: [String]
    let templates: [PromptTemplate]

    init(_ object: [String: Any], line: Int, file: String) throws {
        func fail(_ problem: String) -> InputError { InputError(file: file, "line \(line): \(problem)") }
        func string(_ key: String) throws -> String {
            guard let value = object[key] as? String else { throw fail("the header needs a string \"\(key)\"") }
            return value
        }
        let known: Set = ["name", "kind", "description", "source", "template", "labels", "templates"]
        if let unknown = Set(object.keys).subtracting(known).sorted().first {
            throw fail("unknown header field \"\(unknown)\" (known: \(known.sorted().joined(separator: ", ")))")
        }
        name = try string("name")
        let kindName = try string("kind")
        guard let kind = TaskKind(rawValue: kindName) else {
            throw fail("unknown kind \"\(kindName)\" (expected classification or open)")
        }
        self.kind = kind
        description = try string("description")
        source = try string("source")
        template = try string("template")
        if let value = object["labels"] {
            guard let labels = value as? [String] else { throw fail("\"labels\" must be a list of strings") }
            self.labels = labels
        } else {
            labels = []
        }
        templates = try Self.customTemplates(object["templates"], fail: fail)
    }

    /// `"templates": {"name": {"input": "...", "output": " {y}", "separator": "\n"}}`; output
    /// and separator may be left out and then are " {y}" and "\n".
    private static func customTemplates(_ value: Any?, fail: (String) -> InputError) throws -> [PromptTemplate] {
        guard let value else { return [] }
        guard let definitions = value as? [String: Any] else { throw fail("\"templates\" must be an object") }
        return try definitions.keys.sorted().map { name in
            guard let fields = definitions[name] as? [String: Any], let input = fields["input"] as? String else {
                throw fail("template \"\(name)\" needs a string \"input\"")
            }
            let output = fields["output"] as? String ?? " {y}"
            let separator = fields["separator"] as? String ?? "\n"
            do {
                return try PromptTemplate(name: name, input: input, output: output, separator: separator)
            } catch let error as InputError {
                throw fail(error.problem)
            }
        }
    }
}

/// The non-blank lines of a task file as JSON objects, with their 1-based line numbers.
private struct TaskFileLines {
    private let data: Data
    private let file: String
    private var position: Data.Index
    private var lineNumber = 0

    init(data: Data, file: String) {
        self.data = data
        self.file = file
        position = data.startIndex
    }

    mutating func nextObject() throws -> (line: Int, object: [String: Any])? {
        while position < data.endIndex {
            let end = data[position...].firstIndex(of: UInt8(ascii: "\n")) ?? data.endIndex
            var bytes = data[position..<end]
            position = end < data.endIndex ? end + 1 : end
            lineNumber += 1
            if bytes.last == UInt8(ascii: "\r") { bytes = bytes.dropLast() }
            if bytes.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) { continue }
            return (lineNumber, try object(from: Data(bytes)))
        }
        return nil
    }

    private func object(from bytes: Data) throws -> [String: Any] {
        func fail(_ problem: String) -> InputError { InputError(file: file, "line \(lineNumber): \(problem)") }
        guard String(data: bytes, encoding: .utf8) != nil else { throw fail("not valid UTF-8") }
        // Foundation's parser accepts a comma before } or ]; JSON (and Python's json) does not.
        if let column = Self.trailingCommaColumn(bytes) {
            throw fail("not valid JSON (a trailing comma at column \(column))")
        }
        let value: Any
        do {
            value = try JSONSerialization.jsonObject(with: bytes, options: [.fragmentsAllowed])
        } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
            throw fail("not valid JSON" + (detail.map { " (\($0))" } ?? ""))
        }
        guard let object = value as? [String: Any] else { throw fail("expected a JSON object") }
        return object
    }

    /// The 1-based column of a comma that only white space separates from a closing } or ],
    /// outside strings; nil when there is none.
    private static func trailingCommaColumn(_ bytes: Data) -> Int? {
        var inString = false, escaped = false
        var pendingComma: Int?
        for (offset, byte) in bytes.enumerated() {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"):
                continue
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if let pendingComma { return pendingComma + 1 }
            case UInt8(ascii: ","):
                pendingComma = offset
                continue
            case UInt8(ascii: "\""):
                inString = true
            default:
                break
            }
            pendingComma = nil
        }
        return nil
    }
}
