import ArgumentParser
import Foundation
import Shared

/// Checks an output path before any work is done for it: a path that cannot be written should
/// fail in the first second, not after a capture or an analysis has run.
public enum OutputPath {
    /// `path` names a file that can be created: not empty, not a folder, in a folder that exists
    /// and is writable. An existing file is refused with `refusal` (nil: it is replaced).
    public static func validateFile(_ path: String, option: String, ifExists refusal: String?) throws {
        guard !path.isEmpty, !path.hasSuffix("/") else { throw ValidationError("\(option) \"\(path)\" must name a file") }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            if isDirectory.boolValue { throw InputError(file: path, "is a folder; \(option) names the file to write") }
            if let refusal { throw InputError(file: path, refusal) }
        }
        try validateParent(of: path)
    }

    /// `path` names a folder that exists or can be created in a writable folder.
    public static func validateFolder(_ path: String, option: String) throws {
        guard !path.isEmpty else { throw ValidationError("\(option) must name a folder") }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            if !isDirectory.boolValue { throw InputError(file: path, "is a file; \(option) names a folder") }
            return
        }
        try validateParent(of: path)
    }

    private static func validateParent(of path: String) throws {
        let folder = ((path.hasSuffix("/") ? String(path.dropLast()) : path) as NSString).deletingLastPathComponent
        let parent = folder.isEmpty ? "." : folder
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw InputError(file: path, "cannot be created: \(parent) is not a folder")
        }
        guard access(parent, W_OK) == 0 else {
            throw InputError(file: path, "cannot be created: \(parent) is not writable")
        }
    }

    /// Whether two paths name the same existing file (through links and different spellings).
    public static func sameFile(_ a: String, _ b: String) -> Bool {
        guard let first = try? FileManager.default.attributesOfItem(atPath: a),
              let second = try? FileManager.default.attributesOfItem(atPath: b) else { return false }
        return (first[.systemFileNumber] as? NSNumber) == (second[.systemFileNumber] as? NSNumber)
            && (first[.systemNumber] as? NSNumber) == (second[.systemNumber] as? NSNumber)
    }
}
