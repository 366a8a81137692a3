/// llama.cpp's SentencePiece BPE for GGUF "llama" vocabularies: repeatedly merge the adjacent
/// pair whose concatenation is the vocabulary entry with the highest score, leftmost first.
struct SentencePieceScoreMerger: Sendable {
    let scores: [Float]

    private struct Candidate: Comparable {
        var score: Float
        var left: Int32
        var right: Int32
        /// Scalars in the merged piece; a mismatch later means one side has changed since.
        var size: Int32
        static func < (a: Candidate, b: Candidate) -> Bool {
            a.score != b.score ? a.score > b.score : a.left < b.left
        }
    }

    /// The final pieces of `scalars`, as index ranges.
    func apply(_ scalars: [Unicode.Scalar], vocabulary: Vocabulary) -> [Range<Int>] {
        let count = scalars.count
        guard count > 1 else { return count == 1 ? [0..<1] : [] }
        var length = [Int32](repeating: 1, count: count)
        var previous = (0..<count).map { Int32($0) - 1 }
        var next = (0..<count).map { Int32($0) + 1 }
        next[count - 1] = -1
        var queue = BinaryHeap<Candidate>(capacity: count)

        func addCandidate(_ left: Int32, _ right: Int32) {
            guard left >= 0, right >= 0 else { return }
            let start = Int(left), end = Int(right) + Int(length[Int(right)])
            let piece = String(String.UnicodeScalarView(scalars[start..<end]))
            guard let id = vocabulary[piece], Int(id) < scores.count else { return }
            queue.push(Candidate(score: scores[Int(id)], left: left, right: right, size: Int32(end - start)))
        }

        for index in 0..<count - 1 { addCandidate(Int32(index), Int32(index + 1)) }
        while let candidate = queue.pop() {
            let left = Int(candidate.left), right = Int(candidate.right)
            guard length[left] > 0, length[right] > 0, length[left] + length[right] == candidate.size else { continue }
            length[left] += length[right]
            length[right] = 0
            next[left] = next[right]
            if next[right] >= 0 { previous[Int(next[right])] = Int32(left) }
            addCandidate(previous[left], Int32(left))
            addCandidate(Int32(left), next[left])
        }
        var pieces = [Range<Int>]()
        var index: Int32 = 0
        while index >= 0 {
            pieces.append(Int(index)..<Int(index) + Int(length[Int(index)]))
            index = next[Int(index)]
        }
        return pieces
    }
}
