import ArgumentParser
import Capture
import Foundation
import Shared

/// --tasks and --tasks-dir: the tasks a command builds prompts from, by name from a tasks
/// folder (by default the shipped one, found from the binary) or by path to a task file.
struct TaskOptions: ParsableArguments {
    @Option(help: "Comma-separated task names, paths to task files (ending in .jsonl), or 'all' (every task in the tasks folder).")
    var tasks: String

    @Option(help: ArgumentHelp("Folder of task files (<name>.jsonl) (default: the shipped tasks: \(ShippedTasks.installedPath) beside the installed binary's bin/, or the repository's tasks/).", valueName: "dir"))
    var tasksDir: String?

    /// The `--tasks` entries, spaces around commas trimmed.
    private var entries: [String] {
        tasks.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
    }

    func validate() throws {
        if entries.contains("") {
            throw ValidationError("--tasks \"\(tasks)\" has an empty name: give task names (antonym,sentiment), task files (./my_task.jsonl) or all")
        }
        if entries.count > 1 && entries.contains("all") {
            throw ValidationError("--tasks: 'all' stands alone (every task in the tasks folder)")
        }
        if let tasksDir, tasksDir.isEmpty { throw ValidationError("--tasks-dir must name a folder") }
    }

    /// The selected task names, in the order given, and where their files are.
    func resolve() throws -> (names: [String], catalog: TaskCatalog) {
        var files: [String: URL] = [:]
        var names: [String] = []
        for entry in entries where Self.isPath(entry) {
            let url = URL(fileURLWithPath: entry)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue else {
                throw InputError(file: entry, "no such task file")
            }
            let name = url.deletingPathExtension().lastPathComponent
            if let other = files[name], other.standardizedFileURL != url.standardizedFileURL {
                throw InputError(file: entry, "task \(name) is also \(other.relativePath): task names must be unique")
            }
            files[name] = url
        }
        let needsFolder = entries.contains { !Self.isPath($0) }
        let catalog = TaskCatalog(directory: needsFolder ? try folder() : nil, files: files)
        if entries == ["all"] {
            names = try catalog.names()
            if names.isEmpty { throw InputError(file: catalog.directory?.relativePath, "no task files (<name>.jsonl) in the tasks folder") }
        } else {
            names = entries.map { Self.isPath($0) ? URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent : $0 }
        }
        return (names, catalog)
    }

    /// A task file named by path rather than a task name.
    private static func isPath(_ entry: String) -> Bool {
        entry.hasSuffix(".jsonl") || entry.contains("/")
    }

    /// --tasks-dir, or the shipped tasks.
    private func folder() throws -> URL {
        if let tasksDir {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: tasksDir, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw InputError(file: tasksDir, "no such tasks folder (--tasks-dir)")
            }
            return URL(fileURLWithPath: tasksDir)
        }
        let executable = ShippedTasks.runningExecutable
        guard let found = ShippedTasks.locate(executable: executable) else {
            let places = ShippedTasks.candidates(executable: executable).map(\.path).joined(separator: " and ")
            throw InputError(file: nil, "no tasks folder found (looked in \(places)); pass --tasks-dir DIR, or task files by path (--tasks ./my_task.jsonl)")
        }
        return found
    }
}
