/// What every tokenizer flavour shares: the vocabulary by id and by spelling, the added tokens,
/// the BOS convention and the decoder chain.
struct TokenizerCommon: Sendable {
    /// Vocabulary spelling by id (added tokens included); "" for ids nothing names.
    var pieces: [String]
    var idsByPiece: Vocabulary
    var addedTokens: SpecialTokenSplitter
    var specialIDs: Set<Int32>
    var bosTokenID: Int32?
    var eosTokenID: Int32?
    var addsBOSByDefault: Bool
    var decoder: TokenDecoder
    var summary: String

    init(pieces: [String], idsByPiece: Vocabulary, addedTokens: [AddedToken], specialIDs: Set<Int32>,
         bosTokenID: Int32?, eosTokenID: Int32?, addsBOSByDefault: Bool, decoder: TokenDecoder, summary: String) {
        var pieces = pieces
        for token in addedTokens where token.id >= 0 {
            if Int(token.id) >= pieces.count {
                pieces += Array(repeating: "", count: Int(token.id) + 1 - pieces.count)
            }
            pieces[Int(token.id)] = token.content
        }
        self.pieces = pieces
        self.idsByPiece = idsByPiece
        self.addedTokens = SpecialTokenSplitter(addedTokens)
        self.specialIDs = specialIDs.union(addedTokens.map(\.id))
        self.bosTokenID = bosTokenID
        self.eosTokenID = eosTokenID
        self.addsBOSByDefault = addsBOSByDefault && bosTokenID != nil
        self.decoder = decoder
        self.summary = summary
    }

    func piece(_ id: Int32) -> String? {
        id >= 0 && Int(id) < pieces.count ? pieces[Int(id)] : nil
    }

    func decode(_ ids: [Int32]) -> String {
        decoder.decode(ids.compactMap(piece))
    }

    /// Encodes each text segment with `encodeText`, which appends its tokens with byte ranges into
    /// the segment as it normalized it and returns that normalization's alignment; added tokens
    /// keep the bytes they matched, BOS goes first with none.
    func encode<Sink: TokenSink>(_ text: String, addBOS: Bool,
                                 encodeText: (String, Bool, inout Sink) -> TextAlignment) -> Sink {
        var tokens = Sink()
        if addBOS, let bosTokenID { tokens.append(bosTokenID, bytes: 0..<0) }
        for segment in addedTokens.split(text) {
            switch segment {
            case let .token(id, bytes):
                tokens.append(id, bytes: bytes)
            case let .text(piece, atStart, offset):
                let first = tokens.count
                let alignment = encodeText(piece, atStart, &tokens)
                tokens.mapToOriginal(from: first, through: alignment, offset: offset)
            }
        }
        return tokens
    }
}

/// How a BPE model treats a character missing from the vocabulary (HF `unk_token`, `fuse_unk`).
struct UnknownPolicy: Sendable {
    var unknownID: Int32?
    var fusesUnknown: Bool
}
