import Foundation

/// GPT-2-style byte-level BPE (GPT-2, Llama 3, Qwen2, SmolLM2): words from a regex
/// pre-tokenizer, each word's UTF-8 bytes spelled with `ByteLevelEncoding`, merged by rank.
struct ByteLevelBPETokenizer: Tokenizer {
    let common: TokenizerCommon
    let merges: BPEMerges
    let preTokenizer: PreTokenizer
    /// HF `NFC` normalizer (Qwen2).
    let normalizesNFC: Bool
    /// HF `ignore_merges` (Llama 3): a word that is itself in the vocabulary is one token.
    let ignoresMerges: Bool
    let unknown: UnknownPolicy
    /// Token id of each byte's one-character piece; -1 where the vocabulary lacks it.
    private let byteTokenIDs: [Int32]

    init(common: TokenizerCommon, merges: BPEMerges, preTokenizer: PreTokenizer, normalizesNFC: Bool,
         ignoresMerges: Bool, unknown: UnknownPolicy) {
        self.common = common
        self.merges = merges
        self.preTokenizer = preTokenizer
        self.normalizesNFC = normalizesNFC
        self.ignoresMerges = ignoresMerges
        self.unknown = unknown
        byteTokenIDs = ByteLevelEncoding.scalarForByte.map { common.idsByPiece[String($0)] ?? -1 }
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
        // Words repeat a lot in prompts; the cache lives for one call so the tokenizer stays immutable.
        var cache = [[UInt8]: Sink]()
        return common.encode(text, addBOS: addBOS) { (segment, _, tokens: inout Sink) in
            let (normalized, alignment) = normalizesNFC
                ? NFCNormalization.normalize(segment) : (segment, TextAlignment(identity: segment.utf8.count))
            let scalars = Array(normalized.unicodeScalars)
            var wordStart = 0
            for word in preTokenizer.split(scalars) {
                var bytes = [UInt8]()
                for scalar in scalars[word] { bytes.append(contentsOf: UTF8.encode(scalar)!) }
                let encoded: Sink
                if let cached = cache[bytes] {
                    encoded = cached
                } else {
                    encoded = encodeWord(bytes)
                    cache[bytes] = encoded
                }
                tokens.append(contentsOf: encoded, shiftedBy: wordStart)
                wordStart += bytes.count
            }
            return alignment
        }
    }

    /// The tokens of one word, with the bytes of the word each stands for.
    private func encodeWord<Sink: TokenSink>(_ bytes: [UInt8]) -> Sink {
        var tokens = Sink()
        if ignoresMerges, let whole = common.idsByPiece[ByteLevelEncoding.encode(bytes)] {
            tokens.append(whole, bytes: 0..<bytes.count)
            return tokens
        }
        var symbols = WordSymbols<Sink>(capacity: bytes.count)
        for (index, byte) in bytes.enumerated() {
            let id = byteTokenIDs[Int(byte)]
            if id >= 0 {
                symbols.append(id, at: index)
            } else {
                symbols.appendUnknown(at: index, unknown)
            }
        }
        symbols.appendTokens(mergedBy: merges, to: &tokens, wordStart: 0, length: bytes.count)
        return tokens
    }

    func decode(_ ids: [Int32]) -> String { common.decode(ids) }

    func tokenText(_ id: Int32) -> String {
        guard let piece = common.piece(id) else { return "" }
        if common.specialIDs.contains(id) { return piece }
        guard let bytes = ByteLevelEncoding.decode(piece) else { return piece }
        return readableText(bytes)
    }

    func isSpecial(_ id: Int32) -> Bool { common.specialIDs.contains(id) }
}
