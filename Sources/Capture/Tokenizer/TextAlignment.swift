/// Where the bytes of a normalized piece of text (what BPE reads: NFC text, "▁" for a space, the
/// "▁" SentencePiece puts in front) came from in the original text, as consecutive spans of
/// normalized bytes, each from a range of original bytes.
///
/// Within a span of equal lengths bytes map one to one. Otherwise the normalized bytes share the
/// original ones in order, rounding up, so the first of several tokens that split a span gets the
/// first original byte; a span from fewer original bytes leaves the last of them empty, and one
/// from none (the added "▁") leaves all of them empty.
struct TextAlignment {
    private struct Span {
        var normalizedStart: Int
        var original: Range<Int>
    }

    private var spans: [Span] = []
    private(set) var normalizedLength = 0

    init() {}

    /// A piece identical to the original text.
    init(identity length: Int) {
        append(normalizedLength: length, original: 0..<length)
    }

    /// Appends `length` normalized bytes that came from `original`; runs that map byte for byte
    /// join, so unchanged text stays one span.
    mutating func append(normalizedLength length: Int, original: Range<Int>) {
        guard length > 0 else { return }
        if let last = spans.last, original.count == length, original.lowerBound == last.original.upperBound,
           last.original.count == normalizedLength - last.normalizedStart {
            spans[spans.count - 1].original = last.original.lowerBound..<original.upperBound
        } else {
            spans.append(Span(normalizedStart: normalizedLength, original: original))
        }
        normalizedLength += length
    }

    /// Replaces the normalized byte ranges of `tokens[first...]` (in order, each non-empty) by
    /// the original ones, shifted by `offset`.
    func mapToOriginal(_ tokens: inout [TokenSpan], from first: Int, offset: Int) {
        if spans.count == 1, spans[0].original == 0..<normalizedLength {
            for index in first..<tokens.count { tokens[index].bytes = tokens[index].bytes.shifted(by: offset) }
            return
        }
        var span = 0
        for index in first..<tokens.count {
            let normalized = tokens[index].bytes
            while span + 1 < spans.count, normalized.lowerBound >= spans[span + 1].normalizedStart { span += 1 }
            var last = span
            while last + 1 < spans.count, normalized.upperBound > spans[last + 1].normalizedStart { last += 1 }
            tokens[index].bytes = offset + original(normalized.lowerBound, in: span)..<offset + original(normalized.upperBound, in: last)
        }
    }

    /// The original offset of normalized offset `position`, which lies within span `index` or at its end.
    private func original(_ position: Int, in index: Int) -> Int {
        let span = spans[index]
        let end = index + 1 < spans.count ? spans[index + 1].normalizedStart : normalizedLength
        let length = end - span.normalizedStart, into = position - span.normalizedStart
        if span.original.count == length { return span.original.lowerBound + into }
        return span.original.lowerBound + (into * span.original.count + length - 1) / length
    }
}

extension Range<Int> {
    func shifted(by offset: Int) -> Range<Int> {
        lowerBound + offset..<upperBound + offset
    }
}
