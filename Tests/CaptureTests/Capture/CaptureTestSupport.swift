import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// Runs the built `icl-capture` as a user does, and reads the dumps it writes.
enum CaptureTool {
    static let executable = CommandLineTool.productsDirectory.appendingPathComponent("icl-capture")
    /// 3 layers, 4 heads of 24 (2 KV heads), d_model 64, vocabulary 503, context 256.
    static let tinyModel = Fixtures.url("models/tiny-llama3").path
    static let tasksDirectory = Fixtures.repositoryRoot.appendingPathComponent("tasks").path
    static let schemaFile = Fixtures.repositoryRoot.appendingPathComponent("schemas/dump-v1.json").path

    static func skipUnlessBuilt() throws {
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw XCTSkip("icl-capture is not built next to the tests (swift build --build-tests builds it)")
        }
    }

    struct Outcome: CustomStringConvertible {
        let status: Int32
        /// false when the process died of a signal (a trap, a crash, our own kill).
        let exited: Bool
        let standardOutput: String
        let standardError: String
        let arguments: [String]
        let seconds: Double

        var succeeded: Bool { exited && status == 0 }
        var errorLines: [Substring] { standardError.split(separator: "\n") }
        var description: String {
            "icl-capture \(arguments.joined(separator: " "))\n  -> \(exited ? "exit" : "signal") \(status) after \(String(format: "%.2f", seconds)) s\n  stderr: \(standardError.prefix(800))\n  stdout: \(standardOutput.prefix(400))"
        }
    }

    /// Runs icl-capture with `arguments`; output goes through files, so nothing can block.
    static func run(_ arguments: [String]) throws -> Outcome {
        let process = try start(arguments)
        process.process.waitUntilExit()
        return process.finish()
    }

    /// A running icl-capture.
    final class Running {
        let process: Process
        let arguments: [String]
        let started = Date()
        private let outURL: URL, errURL: URL

        init(process: Process, arguments: [String], outURL: URL, errURL: URL) {
            self.process = process
            self.arguments = arguments
            self.outURL = outURL
            self.errURL = errURL
        }

        func finish() -> Outcome {
            process.waitUntilExit()
            let seconds = Date().timeIntervalSince(started)
            defer {
                try? FileManager.default.removeItem(at: outURL)
                try? FileManager.default.removeItem(at: errURL)
            }
            return Outcome(status: process.terminationStatus, exited: process.terminationReason == .exit,
                           standardOutput: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                           standardError: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "",
                           arguments: arguments, seconds: seconds)
        }
    }

    static func start(_ arguments: [String]) throws -> Running {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("icl-capture-output-\(UUID().uuidString)")
        let outURL = base.appendingPathExtension("out"), errURL = base.appendingPathExtension("err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        return Running(process: process, arguments: arguments, outURL: outURL, errURL: errURL)
    }

    /// `icl-capture run` with the tiny model and the shipped tasks, writing `out`.
    static func capture(_ options: [String], out: String, model: String = tinyModel) throws -> Outcome {
        try run(runArguments(options, out: out, model: model))
    }

    static func runArguments(_ options: [String], out: String, model: String = tinyModel) -> [String] {
        ["run", "--model", model, "--tasks-dir", tasksDirectory, "--out", out] + options
    }

    /// `sha256sum -c DUMP.sha256` in the dump's folder, as a collaborator checks a copy.
    static func sha256sumCheck(_ dump: String) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sha256sum", "-c", (DumpChecksum.path(for: dump) as NSString).lastPathComponent]
        process.currentDirectoryURL = URL(fileURLWithPath: dump).deletingLastPathComponent()
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}

/// A scratch folder removed when the test case ends.
final class ScratchDirectory {
    let url: URL

    init(_ label: String) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("icl-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// One dataset read whole: numbers as Double (exact for every type the dump stores:
/// float16, float32, int32, uint8), or strings.
struct StoredArray {
    let path: String
    let shape: [Int]
    let type: HDF5ElementType
    let numbers: [Double]
    let strings: [String]

    var rowCount: Int { shape.first ?? 1 }
    var rowWidth: Int { shape.dropFirst().reduce(1, *) }

    func row(_ r: Int) -> ArraySlice<Double> { numbers[(r * rowWidth)..<((r + 1) * rowWidth)] }

    func ints() -> [Int] { numbers.map { Int($0) } }
    func floats() -> [Float] { numbers.map { Float($0) } }

    /// Bit-for-bit equality (NaN equals NaN of the same payload).
    func identical(to other: StoredArray) -> Bool {
        shape == other.shape && type == other.type && strings == other.strings
            && numbers.count == other.numbers.count
            && zip(numbers, other.numbers).allSatisfy { $0.bitPattern == $1.bitPattern }
    }
}

/// Every dataset and attribute of a dump, read into memory.
struct DumpSnapshot {
    /// Absolute dataset path ("/sets/x/z") -> values.
    var datasets: [String: StoredArray] = [:]
    /// Group path ("/", "/sets/x") -> attributes.
    var attributes: [String: [String: HDF5AttributeValue]] = [:]
    /// Absolute paths of the dimension-scale datasets.
    var dimensionScales: Set<String> = []

    init(path: String) throws {
        let file = try HDF5File.open(path)
        defer { try? file.close() }
        try read(file, path: "/")
    }

    private mutating func read(_ container: some HDF5Container, path: String) throws {
        var attributes: [String: HDF5AttributeValue] = [:]
        for name in try container.attributeNames() { attributes[name] = try container.attribute(name) }
        self.attributes[path] = attributes
        let prefix = path == "/" ? "/" : path + "/"
        for member in try container.members() {
            switch member.kind {
            case .group:
                try read(try container.openGroup(member.name), path: prefix + member.name)
            case .dataset:
                let dataset = try container.openDataset(member.name)
                let full = prefix + member.name
                if dataset.isDimensionScale { dimensionScales.insert(full) }
                switch dataset.elementType {
                case .variableLengthString, .fixedLengthString:
                    datasets[full] = StoredArray(path: full, shape: dataset.shape, type: dataset.elementType,
                                                 numbers: [], strings: try dataset.readStrings())
                default:
                    // Dimensions without values own no space: they read as zeros and are skipped.
                    let values = dataset.isDimensionScale ? [] : try dataset.read(as: Double.self)
                    datasets[full] = StoredArray(path: full, shape: dataset.shape, type: dataset.elementType,
                                                 numbers: values, strings: [])
                }
            default:
                continue
            }
        }
    }

    subscript(_ path: String) -> StoredArray? { datasets[path] }

    func dataset(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws -> StoredArray {
        try XCTUnwrap(datasets[path], "dataset \(path) missing", file: file, line: line)
    }

    /// Names of the groups under /sets (or /probes).
    func groupNames(under parent: String) -> [String] {
        attributes.keys.filter { $0.hasPrefix(parent + "/") }.map { String($0.dropFirst(parent.count + 1)) }
            .filter { !$0.contains("/") }.sorted()
    }

    func stringAttribute(_ group: String, _ name: String) -> String? {
        if case .string(let value)? = attributes[group]?[name] { return value }
        return nil
    }

    func intAttribute(_ group: String, _ name: String) -> Int? {
        if case .int(let value)? = attributes[group]?[name] { return value }
        return nil
    }
}

/// Datasets of a prompt set that hold one row per prompt and are written by the forward pass.
let capturedSetDatasets = ["z", "resid", "final_norm_scale", "label_logits", "head_label_logits", "resid_label_logits",
                           "gold_logprob", "argmax", "top_ids", "top_logits", "attention", "done"]

/// The models the tests load, once per process (loading is cheap, but tokenizers are used a lot).
enum LoadedModels {
    nonisolated(unsafe) private static var cache: [String: LoadedModel] = [:]

    static func model(_ path: String) throws -> LoadedModel {
        if let model = cache[path] { return model }
        let model = try ModelLoader.load(path: path)
        cache[path] = model
        return model
    }
}

/// The first differing element of two equal-length arrays, for failure messages.
func firstDifference(_ a: ArraySlice<Double>, _ b: ArraySlice<Double>) -> String {
    for (i, (x, y)) in zip(a, b).enumerated() where x.bitPattern != y.bitPattern {
        return "element \(i): \(x) vs \(y) (of \(a.count))"
    }
    return a.count == b.count ? "identical" : "lengths \(a.count) vs \(b.count)"
}

/// Largest |a - b| over the largest |b| (0 when both are all zero).
func relativeDifference(_ a: ArraySlice<Double>, _ b: ArraySlice<Double>) -> Double {
    var difference = 0.0, magnitude = 0.0
    for (x, y) in zip(a, b) {
        difference = max(difference, abs(x - y))
        magnitude = max(magnitude, abs(y))
    }
    return magnitude == 0 ? difference : difference / magnitude
}
