import Capture
import Foundation
import TestSupport

/// Tasks the prompt tests build from: the shipped ones, and small ones made in code.
enum PromptTestTasks {
    static let catalog = TaskCatalog(directory: Fixtures.repositoryRoot.appendingPathComponent("tasks"))

    static func shipped(_ name: String) throws -> TaskFile {
        try catalog.load(name)
    }

    /// A classification task of `count` pairs "w0" ... with labels cycling through `labels`.
    static func classification(count: Int = 40, labels: [String] = ["yes", "no", "maybe"]) throws -> TaskFile {
        let pairs = (0..<count).map { TaskPair(input: "w\($0)", output: labels[$0 % labels.count]) }
        return try TaskFile(name: "toy_classification", kind: .classification, description: "toy", source: "tests",
                            defaultTemplate: "qa", labels: labels, pairs: pairs)
    }

    /// An open task of `count` pairs with distinct outputs, some inputs outside ASCII.
    static func open(count: Int = 40) throws -> TaskFile {
        let pairs = (0..<count).map { TaskPair(input: $0 % 3 == 0 ? "é\($0)ß" : "in\($0)", output: "out\($0)") }
        return try TaskFile(name: "toy_open", kind: .open, description: "toy", source: "tests",
                            defaultTemplate: "qa", pairs: pairs)
    }

    /// A fresh temporary directory, removed by the caller.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("prompt-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
