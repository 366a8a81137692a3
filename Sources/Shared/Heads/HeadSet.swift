import Foundation

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
