import Foundation
import Shared

/// The files of one capture (its shards, or one whole file) read as one dump. They must share
/// the model, the capture options and the shard count; their shards must be distinct, and every
/// prompt they hold must belong to the shard its file names, once.
public struct ShardedDump: @unchecked Sendable {
    public let files: [DumpFile]

    public init(paths: [String]) throws {
        try Self.checkDistinct(paths)
        try self.init(files: paths.map(DumpFile.init(path:)))
    }

    /// Refuses an empty list and a file named twice (it would count every prompt twice).
    static func checkDistinct(_ paths: [String]) throws {
        guard !paths.isEmpty else { throw InputError(file: nil, "no dump given") }
        var seen = Set<String>()
        for path in paths {
            let canonical = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
            guard seen.insert(canonical).inserted else { throw InputError(file: path, "is given twice") }
        }
    }

    public init(files: [DumpFile]) throws {
        guard let first = files.first else { throw InputError(file: nil, "no dump given") }
        for file in files.dropFirst() {
            if file.modelSHA256 != first.modelSHA256 {
                throw InputError(file: file.path, "was captured from another model (sha256 \(file.modelSHA256.prefix(12))..., \(first.path) has \(first.modelSHA256.prefix(12))...)")
            }
            if file.captureConfiguration != first.captureConfiguration {
                throw InputError(file: file.path, "was captured with other options than \(first.path)")
            }
            if file.shard.count != first.shard.count {
                throw InputError(file: file.path, "holds shard \(file.shard) but \(first.path) holds \(first.shard): shards of one capture share their count")
            }
            if file.setNames != first.setNames || file.probeNames != first.probeNames {
                throw InputError(file: file.path, "holds other prompt sets than \(first.path)")
            }
            if file.sizes["/"]! != first.sizes["/"]! || file.activationType != first.activationType {
                throw InputError(file: file.path, "has other model dimensions or activation type than \(first.path)")
            }
        }
        var seen: [Int: String] = [:]
        for file in files {
            if let other = seen[file.shard.index] {
                throw InputError(file: file.path, "holds shard \(file.shard), as \(other) does")
            }
            seen[file.shard.index] = file.path
        }
        self.files = files
        for name in setNames { try checkPromptIndices(group: "sets/\(name)") }
        for name in probeNames { try checkPromptIndices(group: "probes/\(name)") }
    }

    /// Each file's prompt_index values are in range, in its own shard, and unique over the
    /// files: otherwise a prompt would count twice or a foreign row would slip in.
    private func checkPromptIndices(group: String) throws {
        var owner: [Int32: String] = [:]
        let total = try files[0].has(group) ? wholeCount(group: group) : nil
        for file in files {
            let indices = try file.read(group + "/prompt_index", as: Int32.self)
            for (row, index) in indices.enumerated() {
                if index < 0 || (total.map { Int(index) >= $0 } ?? false) {
                    throw InputError(file: file.path, "/\(group)/prompt_index[\(row)] is \(index), outside the set's \(total ?? 0) prompts")
                }
                if Int(index) % file.shard.count != file.shard.index {
                    throw InputError(file: file.path, "/\(group)/prompt_index[\(row)] is \(index), which belongs to shard \(Int(index) % file.shard.count)/\(file.shard.count), not \(file.shard)")
                }
                if let other = owner.updateValue(file.path, forKey: index) {
                    throw InputError(file: file.path, "/\(group) holds prompt \(index) that \(other) holds too")
                }
            }
        }
    }

    /// Prompts of the whole set (all shards) as its attribute says; nil for probe groups.
    private func wholeCount(group: String) throws -> Int? {
        guard group.hasPrefix("sets/") else { return nil }
        let count = try files[0].intAttribute("prompt_count", of: group)
        guard count >= 0 else { throw InputError(file: files[0].path, "/\(group) attribute prompt_count is \(count)") }
        return count
    }

    /// Shards "i/n" missing for a complete capture.
    public var missingShards: [String] {
        let count = files[0].shard.count
        let present = Set(files.map(\.shard.index))
        return (0..<count).filter { !present.contains($0) }.map { "\($0)/\(count)" }
    }

    public var setNames: [String] { files[0].setNames }
    public var probeNames: [String] { files[0].probeNames }
    public var layers: Int { files[0].size("layer") }
    public var heads: Int { files[0].size("head") }
    public var dHead: Int { files[0].size("d_head") }
    public var dModel: Int { files[0].size("d_model") }
    /// A short name of the dump for reports: the first file's name without the shard suffix.
    public var displayName: String {
        files.count == 1 ? (files[0].path as NSString).lastPathComponent
            : files.map { ($0.path as NSString).lastPathComponent }.sorted().joined(separator: "+")
    }
}
