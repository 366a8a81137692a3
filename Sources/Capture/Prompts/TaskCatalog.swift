import Foundation
import Shared

/// Where task files are: a folder of `<name>.jsonl` (such as the shipped tasks/), and task
/// files named by path, which take precedence over the folder's file of the same name.
public struct TaskCatalog: Sendable, Hashable {
    /// The folder task names are looked up in; nil when only task files were named.
    public let directory: URL?
    /// Task files named by path, by task name (the file name without `.jsonl`).
    public let files: [String: URL]

    public init(directory: URL?, files: [String: URL] = [:]) {
        self.directory = directory
        self.files = files
    }

    /// The task names there, sorted.
    public func names() throws -> [String] {
        guard let directory else { return files.keys.sorted() }
        let entries: [String]
        do {
            entries = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw InputError(file: directory.relativePath, "cannot list the task directory")
        }
        let inFolder = entries.filter { $0.hasSuffix(".jsonl") }.map { String($0.dropLast(".jsonl".count)) }
        return Set(inFolder + files.keys).sorted()
    }

    /// The location of task `name`; nil when it is not a named file and there is no folder.
    public func url(of name: String) -> URL? {
        files[name] ?? directory?.appendingPathComponent("\(name).jsonl")
    }

    /// Loads task `name`; an unknown name is an `InputError` that lists the known ones.
    public func load(_ name: String) throws -> TaskFile {
        guard let url = url(of: name) else {
            throw InputError(file: name, "no such task file, and no tasks folder to look in")
        }
        guard FileManager.default.fileExists(atPath: url.path) else {
            let known = (try? names()).map { $0.isEmpty ? "none" : $0.joined(separator: ", ") } ?? "none"
            throw InputError(file: url.relativePath, "no such task (known: \(known))")
        }
        return try TaskFile.load(from: url)
    }

    /// Loads every task, in name order.
    public func loadAll() throws -> [TaskFile] {
        try names().map(load)
    }
}
