

/// Slice i of n of a capture (`--shard i/n`): from every prompt set, the prompts whose index
/// is i modulo n. The n shards of a capture are disjoint and together hold every prompt, and
/// each prompt keeps its index, so shard dumps merge back by index.
public struct Shard: Sendable, Hashable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    /// The whole capture as one shard.
    public static let whole = Shard(validIndex: 0, count: 1)

    public init(index: Int, count: Int) throws {
        guard count >= 1, index >= 0, index < count else {
            throw InputError(file: nil, "shard \(index)/\(count): need 0 <= i < n")
        }
        self.init(validIndex: index, count: count)
    }

    /// Parses "i/n", e.g. "0/4".
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else {
            throw InputError(file: nil, "shard \"\(text)\": expected i/n, e.g. 0/4")
        }
        try self.init(index: index, count: count)
    }

    private init(validIndex: Int, count: Int) {
        index = validIndex
        self.count = count
    }

    public func contains(promptIndex: Int) -> Bool {
        promptIndex % count == index
    }

    public var description: String { "\(index)/\(count)" }
}
