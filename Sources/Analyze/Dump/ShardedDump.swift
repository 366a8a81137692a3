import Foundation
import Shared

/// Several files of one capture (its shards, or one whole file) read as one dump. They must
/// share the model and the capture configuration; their shards must be distinct.
public struct ShardedDump {
    public let files: [DumpFile]

    public init(paths: [String]) throws {
        guard let first = paths.first else { throw InputError(file: nil, "no dump given") }
        let files = try paths.map(DumpFile.init(path:))
        for file in files.dropFirst() {
            if file.modelSHA256 != files[0].modelSHA256 {
                throw InputError(file: file.path, "was captured from another model (sha256 \(file.modelSHA256.prefix(12))..., \(first) has \(files[0].modelSHA256.prefix(12))...)")
            }
            if file.captureConfiguration != files[0].captureConfiguration {
                throw InputError(file: file.path, "was captured with other options than \(first)")
            }
        }
        var seen: [String: String] = [:]
        for file in files {
            if let other = seen[file.shard] {
                throw InputError(file: file.path, "holds shard \(file.shard), as \(other) does")
            }
            seen[file.shard] = file.path
        }
        self.files = files
    }

    /// Shards "i/n" missing for a complete capture.
    public var missingShards: [String] {
        guard let count = files.first?.shard.split(separator: "/").last.flatMap({ Int($0) }) else { return [] }
        let present = Set(files.map(\.shard))
        return (0..<count).map { "\($0)/\(count)" }.filter { !present.contains($0) }
    }

    public var setNames: [String] { files.first?.setNames ?? [] }
    public var probeNames: [String] { files.first?.probeNames ?? [] }

    /// A 1-D integer dataset of a set, the shards' rows concatenated, with each row's
    /// prompt_index and done flag.
    public func rows(of set: String, _ name: String) throws -> [(promptIndex: Int, done: Bool, value: Int32)] {
        try files.flatMap { file -> [(Int, Bool, Int32)] in
            let group = "sets/\(set)/"
            let index = try file.dataset(group + "prompt_index").read(as: Int32.self)
            let done = try file.dataset(group + "done").read(as: UInt8.self)
            let values = try file.dataset(group + name).read(as: Int32.self)
            return zip(index, zip(done, values)).map { (Int($0), $1.0 == 1, $1.1) }
        }
    }

    /// A float dataset of a set with one value per prompt, rows as in `rows(of:_:)`.
    public func floatRows(of set: String, _ name: String) throws -> [Float] {
        try files.flatMap { try $0.dataset("sets/\(set)/\(name)").read(as: Float.self) }
    }

    public func labelIDs(of set: String) throws -> [Int32] {
        try files[0].dataset("sets/\(set)/label_ids").read(as: Int32.self)
    }

    public func attribute(of set: String, _ name: String) throws -> String {
        try files[0].file.openGroup("sets/\(set)").attribute(name, as: String.self)
    }
}
