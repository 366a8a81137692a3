import ArgumentParser
import Foundation
import Shared

/// Checks an output file path before any work is done for it: a path that cannot be written
/// should fail in the first second, not after a capture has run.
enum OutputPath {
    /// `path` names a file that can be created: not empty, not a folder, in a folder that exists
    /// and is writable; an existing file is refused unless `resuming`.
    static func validate(_ path: String, resuming: Bool, option: String = "--out") throws {
        guard !path.isEmpty, !path.hasSuffix("/") else { throw ValidationError("\(option) \"\(path)\" must name a file") }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            if isDirectory.boolValue { throw InputError(file: path, "is a folder; \(option) names the file to write") }
            if !resuming { throw InputError(file: path, "exists; pass --resume to continue it, or choose another \(option)") }
            return
        }
        let folder = (path as NSString).deletingLastPathComponent
        let parent = folder.isEmpty ? "." : folder
        guard FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw InputError(file: path, "cannot be created: \(parent) is not a folder")
        }
        guard access(parent, W_OK) == 0 else {
            throw InputError(file: path, "cannot be created: \(parent) is not writable")
        }
    }
}
