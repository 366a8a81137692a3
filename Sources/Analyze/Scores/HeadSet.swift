import Foundation
import Shared

/// One attention head: layer and head index within the layer.
public struct HeadID: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let layer: Int
    public let head: Int

    public init(layer: Int, head: Int) {
        self.layer = layer
        self.head = head
    }

    /// Head `index` of the flat [layer * heads + head] order the score vectors use.
    public init(index: Int, heads: Int) {
        self.init(layer: index / heads, head: index % heads)
    }

    public static func < (a: HeadID, b: HeadID) -> Bool { (a.layer, a.head) < (b.layer, b.head) }
    public var description: String { "L\(layer)H\(head)" }

    /// Encoded as [layer, head], the form `icl-analyze heads --json` writes and reads.
    public init(from decoder: Decoder) throws {
        var container = try decoder.unkeyedContainer()
        layer = try container.decode(Int.self)
        head = try container.decode(Int.self)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.unkeyedContainer()
        try container.encode(layer)
        try container.encode(head)
    }
}

/// A named set of heads: a top-k set by some score, a random control set, or one from a file.
public struct HeadSet: Sendable, Codable {
    public enum Kind: String, Sendable, Codable {
        case named, random, file
    }

    public let name: String
    public let kind: Kind
    public let heads: [HeadID]

    public init(name: String, kind: Kind, heads: [HeadID]) {
        self.name = name
        self.kind = kind
        self.heads = heads.sorted()
    }

    /// Reads a head-set file (`icl-analyze heads ... --json`: {"heads": [[layer, head], ...]}),
    /// checking every head exists in a model of `layers` x `heads`.
    public static func load(path: String, layers: Int, heads: Int) throws -> HeadSet {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(file: path, "cannot be read")
        }
        struct File: Decodable {
            let heads: [HeadID]
            let name: String?
        }
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            throw InputError(file: path, "is not a head-set file ({\"heads\": [[layer, head], ...]}): \(error)")
        }
        guard !file.heads.isEmpty else { throw InputError(file: path, "names no heads") }
        for head in file.heads where !(0..<layers).contains(head.layer) || !(0..<heads).contains(head.head) {
            throw InputError(file: path, "names head \(head), but the model has \(layers) layers of \(heads) heads")
        }
        guard Set(file.heads).count == file.heads.count else { throw InputError(file: path, "names a head twice") }
        let name = file.name ?? ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        return HeadSet(name: "file:\(name)", kind: .file, heads: file.heads)
    }

    /// `count` random sets of `size` heads each, drawn uniformly from the heads outside
    /// `excluded` (the named sets), reproducibly from `seed`.
    public static func randomSets(count: Int, size: Int, layers: Int, heads: Int, excluded: Set<HeadID>,
                                  seed: UInt64) -> [HeadSet] {
        let pool = (0..<layers).flatMap { l in (0..<heads).map { HeadID(layer: l, head: $0) } }.filter { !excluded.contains($0) }
        guard size >= 1, pool.count >= size else { return [] }
        return (0..<count).map { i in
            var generator = SplitMix64(seed: SplitMix64.derive(seed, UInt64(i)))
            let picked = generator.sample(size, from: pool.count).map { pool[$0] }
            return HeadSet(name: String(format: "random_%02d", i), kind: .random, heads: picked)
        }
    }
}
