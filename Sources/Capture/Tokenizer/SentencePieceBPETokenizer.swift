/// SentencePiece-style BPE (Llama 2, Mistral): spaces become "▁", a "▁" prefix marks the start of
/// the text, and characters outside the vocabulary fall back to `<0xNN>` byte tokens.
struct SentencePieceBPETokenizer: Tokenizer {
    static let metaspace: Unicode.Scalar = "\u{2581}"

    /// How merges are chosen.
    enum Merging: Sendable {
        /// tokenizer.json BPE: merges by rank, as HF tokenizers does.
        case ranked(BPEMerges)
        /// GGUF "llama": by vocabulary score, as llama.cpp does.
        case scored(SentencePieceScoreMerger)
    }

    /// Where a "▁" prefix goes.
    enum SpacePrefix: Sendable, Equatable {
        /// HF normalizer `Prepend("▁")`: every text piece between added tokens, always.
        case everySegment
        /// HF pre-tokenizer `Metaspace` with prepend scheme "first": the start of the text, unless
        /// it already begins with a space.
        case textStart
        /// Metaspace prepend scheme "always": every text piece that does not begin with a space.
        case segmentStart
        case none
    }

    let common: TokenizerCommon
    let merging: Merging
    let spacePrefix: SpacePrefix
    /// Metaspace `split: true`: each "▁" starts a new word.
    let splitsAtMetaspace: Bool
    let byteFallback: Bool
    let unknown: UnknownPolicy
    /// Token id of each byte's `<0xNN>` token; -1 where the vocabulary lacks it.
    private let byteTokenIDs: [Int32]

    init(common: TokenizerCommon, merging: Merging, spacePrefix: SpacePrefix, splitsAtMetaspace: Bool,
         byteFallback: Bool, unknown: UnknownPolicy) {
        self.common = common
        self.merging = merging
        self.spacePrefix = spacePrefix
        self.splitsAtMetaspace = splitsAtMetaspace
        self.byteFallback = byteFallback
        self.unknown = unknown
        byteTokenIDs = (0...255).map { common.idsByPiece[byteTokenPiece(UInt8($0))] ?? -1 }
    }

    var vocabularySize: Int { common.pieces.count }
    var bosTokenID: Int32? { common.bosTokenID }
    var eosTokenID: Int32? { common.eosTokenID }
    var addsBOSByDefault: Bool { common.addsBOSByDefault }
    var summary: String { common.summary }

    func encode(_ text: String, addBOS: Bool) -> [Int32] {
        encode(text, addBOS: addBOS, into: TokenIDSink.self).ids
    }

    func encodeWithOffsets(_ text: String, addBOS: Bool) -> [TokenSpan] {
        encode(text, addBOS: addBOS, into: TokenSpanSink.self).spans
    }

    private func encode<Sink: TokenSink>(_ text: String, addBOS: Bool, into _: Sink.Type) -> Sink {
        common.encode(text, addBOS: addBOS) { (segment, atStart, tokens: inout Sink) in
            let (scalars, alignment) = escaped(segment, atStart: atStart)
            var wordStart = 0
            for word in words(scalars) {
                wordStart += encodeWord(Array(scalars[word]), into: &tokens, at: wordStart)
            }
            return alignment
        }
    }

    /// Spaces as "▁", with the prefix this tokenizer adds, and where their bytes came from: a
    /// "▁" from the space it replaced, the prefix from no text.
    private func escaped(_ segment: String, atStart: Bool) -> ([Unicode.Scalar], TextAlignment) {
        var scalars = [Unicode.Scalar]()
        scalars.reserveCapacity(segment.utf8.count + 1)
        var alignment = TextAlignment()
        let first = segment.unicodeScalars.first
        let startsWithMetaspace = first == " " || first == Self.metaspace
        let prefixed: Bool
        switch spacePrefix {
        case .everySegment: prefixed = first != nil
        case .textStart: prefixed = atStart && !startsWithMetaspace
        case .segmentStart: prefixed = !startsWithMetaspace
        case .none: prefixed = false
        }
        let metaspaceWidth = UTF8.width(Self.metaspace)
        if prefixed {
            scalars.append(Self.metaspace)
            alignment.append(normalizedLength: metaspaceWidth, original: 0..<0)
        }
        // Text between spaces maps byte for byte.
        var unchangedStart = 0, offset = 0
        for scalar in segment.unicodeScalars {
            if scalar == " " {
                alignment.append(normalizedLength: offset - unchangedStart, original: unchangedStart..<offset)
                alignment.append(normalizedLength: metaspaceWidth, original: offset..<offset + 1)
                scalars.append(Self.metaspace)
                offset += 1
                unchangedStart = offset
            } else {
                scalars.append(scalar)
                offset += UTF8.width(scalar)
            }
        }
        alignment.append(normalizedLength: offset - unchangedStart, original: unchangedStart..<offset)
        return (scalars, alignment)
    }

    private func words(_ scalars: [Unicode.Scalar]) -> [Range<Int>] {
        guard splitsAtMetaspace else { return scalars.isEmpty ? [] : [0..<scalars.count] }
        var words = [Range<Int>]()
        var start = 0
        for index in scalars.indices where index > start && scalars[index] == Self.metaspace {
            words.append(start..<index)
            start = index
        }
        if start < scalars.count { words.append(start..<scalars.count) }
        return words
    }

    /// Appends the tokens of one word that starts at escaped byte `wordStart`; returns its length in bytes.
    private func encodeWord<Sink: TokenSink>(_ scalars: [Unicode.Scalar], into tokens: inout Sink, at wordStart: Int) -> Int {
        var symbols = WordSymbols<Sink>(capacity: scalars.count)
        var position = 0
        switch merging {
        case let .ranked(merges):
            for scalar in scalars {
                position = append(String(scalar), at: position, to: &symbols)
            }
            symbols.appendTokens(mergedBy: merges, to: &tokens, wordStart: wordStart, length: position)
        case let .scored(merger):
            for piece in merger.apply(scalars, vocabulary: common.idsByPiece) {
                position = append(String(String.UnicodeScalarView(scalars[piece])), at: position, to: &symbols)
            }
            symbols.appendTokens(to: &tokens, wordStart: wordStart, length: position)
        }
        return position
    }

    /// Appends the token of `piece`, which starts at byte `position`, else its `<0xNN>` byte
    /// tokens, else the unknown token; returns where the next piece starts.
    private func append<Sink>(_ piece: String, at position: Int, to symbols: inout WordSymbols<Sink>) -> Int {
        if let id = common.idsByPiece[piece] {
            symbols.append(id, at: position)
        } else if let bytes = byteTokens(for: piece) {
            for (index, id) in bytes.enumerated() { symbols.append(id, at: position + index) }
        } else {
            symbols.appendUnknown(at: position, unknown)
        }
        return position + piece.utf8.count
    }

    /// The `<0xNN>` tokens of `text`'s UTF-8 bytes, when byte fallback is on and all exist.
    private func byteTokens(for text: String) -> [Int32]? {
        guard byteFallback else { return nil }
        let ids = text.utf8.map { byteTokenIDs[Int($0)] }
        return ids.contains(-1) ? nil : ids
    }

    func decode(_ ids: [Int32]) -> String { common.decode(ids) }

    func tokenText(_ id: Int32) -> String {
        guard let piece = common.piece(id) else { return "" }
        if common.specialIDs.contains(id) || byteTokenValue(piece) != nil { return piece }
        return piece.replacingAll("\u{2581}", with: " ")
    }

    func isSpecial(_ id: Int32) -> Bool { common.specialIDs.contains(id) }
}
