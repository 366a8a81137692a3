import Foundation
import Shared

/// A directory of task files (`<name>.jsonl`), such as the repository's tasks/.
public struct TaskCatalog: Sendable, Hashable {
    public let directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    /// The task names there, sorted.
    public func names() throws -> [String] {
        let entries: [String]
        do {
            entries = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw InputError(file: directory.relativePath, "cannot list the task directory")
        }
        return entries.filter { $0.hasSuffix(".jsonl") }.map { String($0.dropLast(".jsonl".count)) }.sorted()
    }

    /// The location of task `name`.
    public func url(of name: String) -> URL {
        directory.appendingPathComponent("\(name).jsonl")
    }

    /// Loads task `name`; an unknown name is an `InputError` that lists the known ones.
    public func load(_ name: String) throws -> TaskFile {
        let url = url(of: name)
        guard FileManager.default.fileExists(atPath: url.path) else {
            let known = (try? names().joined(separator: ", ")) ?? ""
            throw InputError(file: url.relativePath, "no such task (known: \(known))")
        }
        return try TaskFile.load(from: url)
    }

    /// Loads every task, in name order.
    public func loadAll() throws -> [TaskFile] {
        try names().map(load)
    }
}
