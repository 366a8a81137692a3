import Shared

/// BPE merges by rank, as HF tokenizers applies them: repeatedly merge the adjacent pair with the
/// lowest rank, leftmost first, until no adjacent pair has a merge.
struct BPEMerges: Sendable {
    struct Merge: Sendable {
        var rank: Int32
        var result: Int32
    }

    /// Keyed by `left << 32 | right` token ids.
    private let merges: [UInt64: Merge]

    /// `pairs` in rank order; each pair's concatenation must be in `vocabulary`.
    init(pairs: [(String, String)], vocabulary: Vocabulary, source: String) throws {
        var merges = [UInt64: Merge](minimumCapacity: pairs.count)
        for (rank, (left, right)) in pairs.enumerated() {
            guard let leftID = vocabulary[left], let rightID = vocabulary[right],
                  let result = vocabulary[left + right] else {
                throw InputError(file: source, "merge \(rank) \"\(left) \(right)\" uses a token missing from the vocabulary")
            }
            // A repeated pair keeps its last rank, as HF's merge map does.
            merges[BPEMerges.key(leftID, rightID)] = Merge(rank: Int32(rank), result: result)
        }
        self.merges = merges
    }

    private static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    private func merge(_ left: Int32, _ right: Int32) -> Merge? {
        merges[BPEMerges.key(left, right)]
    }

    /// Candidate pairs ordered by rank, then by position.
    private struct Candidate: Comparable {
        var rank: Int32
        var position: Int32
        static func < (a: Candidate, b: Candidate) -> Bool {
            a.rank != b.rank ? a.rank < b.rank : a.position < b.position
        }
    }

    /// The tokens of one word after all merges, each with the index of the first symbol it merged.
    func apply(_ symbols: [Int32]) -> [(id: Int32, firstSymbol: Int)] {
        guard symbols.count > 1 else { return symbols.map { ($0, 0) } }
        var ids = symbols
        // A doubly linked list over positions; a merged-away position gets id -1.
        var previous = (0..<ids.count).map { Int32($0) - 1 }
        var next = (0..<ids.count).map { Int32($0) + 1 }
        next[ids.count - 1] = -1
        var queue = BinaryHeap<Candidate>(capacity: ids.count)
        for position in 0..<ids.count - 1 {
            if let found = merge(ids[position], ids[position + 1]) {
                queue.push(Candidate(rank: found.rank, position: Int32(position)))
            }
        }
        while let candidate = queue.pop() {
            let position = Int(candidate.position)
            let right = Int(next[position])
            // Skip candidates that earlier merges made stale: ranks identify pairs uniquely.
            guard ids[position] >= 0, right >= 0,
                  let found = merge(ids[position], ids[right]), found.rank == candidate.rank else { continue }
            ids[position] = found.result
            ids[right] = -1
            let afterRight = next[right]
            next[position] = afterRight
            if afterRight >= 0 { previous[Int(afterRight)] = Int32(position) }
            let before = previous[position]
            if before >= 0, let left = merge(ids[Int(before)], ids[position]) {
                queue.push(Candidate(rank: left.rank, position: before))
            }
            if afterRight >= 0, let rightMerge = merge(ids[position], ids[Int(afterRight)]) {
                queue.push(Candidate(rank: rightMerge.rank, position: Int32(position)))
            }
        }
        return ids.indices.compactMap { ids[$0] >= 0 ? (ids[$0], $0) : nil }
    }
}
