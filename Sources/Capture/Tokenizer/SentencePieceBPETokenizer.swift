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
        common.encode(text, addBOS: addBOS) { segment, atStart, ids in
            let scalars = escapedScalars(segment, atStart: atStart)
            for word in words(scalars) {
                ids += encodeWord(Array(scalars[word]))
            }
        }
    }

    /// Spaces as "▁", with the prefix this tokenizer adds.
    private func escapedScalars(_ segment: String, atStart: Bool) -> [Unicode.Scalar] {
        var scalars = segment.unicodeScalars.map { $0 == " " ? Self.metaspace : $0 }
        let prefixed: Bool
        switch spacePrefix {
        case .everySegment: prefixed = !scalars.isEmpty
        case .textStart: prefixed = atStart && scalars.first != Self.metaspace
        case .segmentStart: prefixed = scalars.first != Self.metaspace
        case .none: prefixed = false
        }
        if prefixed { scalars.insert(Self.metaspace, at: 0) }
        return scalars
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

    private func encodeWord(_ scalars: [Unicode.Scalar]) -> [Int32] {
        switch merging {
        case let .ranked(merges):
            var symbols = [Int32]()
            var previousWasUnknown = false
            for scalar in scalars {
                if let id = common.idsByPiece[String(scalar)] {
                    symbols.append(id)
                    previousWasUnknown = false
                } else if let bytes = byteTokens(for: String(scalar)) {
                    symbols += bytes
                    previousWasUnknown = false
                } else {
                    unknown.append(to: &symbols, previousWasUnknown: &previousWasUnknown)
                }
            }
            return merges.apply(symbols)
        case let .scored(merger):
            var ids = [Int32]()
            var previousWasUnknown = false
            for piece in merger.apply(scalars, vocabulary: common.idsByPiece) {
                let text = String(String.UnicodeScalarView(scalars[piece]))
                if let id = common.idsByPiece[text] {
                    ids.append(id)
                    previousWasUnknown = false
                } else if let bytes = byteTokens(for: text) {
                    ids += bytes
                    previousWasUnknown = false
                } else {
                    unknown.append(to: &ids, previousWasUnknown: &previousWasUnknown)
                }
            }
            return ids
        }
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
