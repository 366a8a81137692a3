/// Cuts added tokens out of raw text as HF's added vocabulary does: scanning left to right,
/// the first position where any added token matches wins, with the longest token there.
struct SpecialTokenSplitter: Sendable {
    private let tokens: [AddedToken]
    private let tokenScalars: [[Unicode.Scalar]]
    /// Indices into `tokens` by first scalar, longest first.
    private let candidatesByFirstScalar: [Unicode.Scalar: [Int]]

    init(_ addedTokens: [AddedToken]) {
        let usable = addedTokens.filter { !$0.content.isEmpty }
        let scalars = usable.map { Array($0.content.unicodeScalars) }
        var candidates = [Unicode.Scalar: [Int]]()
        for index in usable.indices {
            candidates[scalars[index][0], default: []].append(index)
        }
        for (first, list) in candidates {
            candidates[first] = list.sorted { scalars[$0].count > scalars[$1].count }
        }
        tokens = usable
        tokenScalars = scalars
        candidatesByFirstScalar = candidates
    }

    func split(_ text: String) -> [TextSegment] {
        guard !tokens.isEmpty else { return text.isEmpty ? [] : [.text(text, atStart: true, offset: 0)] }
        let scalars = Array(text.unicodeScalars)
        var segments = [TextSegment]()
        var segmentStart = 0
        var index = 0
        var byteOffset = 0  // of scalars[segmentStart]
        func flushText(upTo end: Int) {
            if end > segmentStart {
                let piece = String(String.UnicodeScalarView(scalars[segmentStart..<end]))
                segments.append(.text(piece, atStart: segmentStart == 0, offset: byteOffset))
                byteOffset += piece.utf8.count
            }
        }
        while index < scalars.count {
            guard let match = longestMatch(in: scalars, at: index) else {
                index += 1
                continue
            }
            let token = tokens[match]
            var start = index, end = index + tokenScalars[match].count
            if token.singleWord, touchesWord(scalars, start: start, end: end) {
                index = end
                continue
            }
            if token.leftStrip {
                while start > segmentStart, scalars[start - 1].properties.isWhitespace { start -= 1 }
            }
            if token.rightStrip {
                while end < scalars.count, scalars[end].properties.isWhitespace { end += 1 }
            }
            flushText(upTo: start)
            let tokenEnd = byteOffset + scalars[start..<end].reduce(0) { $0 + UTF8.width($1) }
            segments.append(.token(token.id, bytes: byteOffset..<tokenEnd))
            byteOffset = tokenEnd
            segmentStart = end
            index = end
        }
        flushText(upTo: scalars.count)
        return segments
    }

    private func longestMatch(in scalars: [Unicode.Scalar], at index: Int) -> Int? {
        guard let candidates = candidatesByFirstScalar[scalars[index]] else { return nil }
        return candidates.first { candidate in
            let pattern = tokenScalars[candidate]
            guard index + pattern.count <= scalars.count else { return false }
            return scalars[index..<index + pattern.count].elementsEqual(pattern)
        }
    }

    private func touchesWord(_ scalars: [Unicode.Scalar], start: Int, end: Int) -> Bool {
        func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
            scalar == "_" || UnicodeClass(scalar) == .letter || UnicodeClass(scalar) == .number
        }
        return (start > 0 && isWordScalar(scalars[start - 1])) || (end < scalars.count && isWordScalar(scalars[end]))
    }
}
