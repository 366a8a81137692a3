import Shared

/// A GGUF file's tokenizer metadata (keys `tokenizer.ggml.*`), filled by the GGUF reader.
public struct GGUFTokenizerData: Sendable {
    /// tokenizer.ggml.model: "gpt2" (byte-level BPE) or "llama" (SentencePiece BPE).
    public var model: String
    /// tokenizer.ggml.pre: e.g. "default", "gpt2", "llama-bpe"/"llama3", "qwen2", "smollm".
    public var pre: String?
    public var tokens: [String]
    /// llama.cpp token types: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte.
    public var tokenTypes: [Int]?
    public var merges: [String]?
    public var scores: [Float]?
    public var bosID: Int?, eosID: Int?, unknownID: Int?, paddingID: Int?
    public var addBOS: Bool?, addEOS: Bool?, addSpacePrefix: Bool?

    public init(model: String, pre: String? = nil, tokens: [String], tokenTypes: [Int]? = nil, merges: [String]? = nil,
                scores: [Float]? = nil, bosID: Int? = nil, eosID: Int? = nil, unknownID: Int? = nil,
                paddingID: Int? = nil, addBOS: Bool? = nil, addEOS: Bool? = nil, addSpacePrefix: Bool? = nil) {
        self.model = model
        self.pre = pre
        self.tokens = tokens
        self.tokenTypes = tokenTypes
        self.merges = merges
        self.scores = scores
        self.bosID = bosID
        self.eosID = eosID
        self.unknownID = unknownID
        self.paddingID = paddingID
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.addSpacePrefix = addSpacePrefix
    }
}

/// llama.cpp token types.
enum GGUFTokenType: Int {
    case normal = 1, unknown, control, userDefined, unused, byte
}

/// How each llama.cpp `tokenizer.ggml.pre` name splits text, following the model's own
/// tokenizer.json (so llama3 names ignore merges and qwen2 names normalise to NFC).
struct GGUFPreTokenizerStyle {
    var preTokenizer: PreTokenizer
    var ignoresMerges = false
    var normalizesNFC = false

    init?(pre: String?) {
        switch pre ?? "default" {
        case "default", "gpt2", "gpt-2", "phi-2", "mpt", "olmo":
            preTokenizer = PreTokenizer(splitsDigits: false, pattern: .gpt2)
        case "smollm", "starcoder", "refact", "command-r", "codeshell":
            preTokenizer = PreTokenizer(splitsDigits: true, pattern: .gpt2)
        case "llama3", "llama-v3", "llama-bpe", "falcon3", "pixtral":
            preTokenizer = PreTokenizer(splitsDigits: false, pattern: .llama3)
            ignoresMerges = true
        case "dbrx", "smaug-bpe":
            preTokenizer = PreTokenizer(splitsDigits: false, pattern: .llama3)
        case "qwen2", "deepseek-r1-qwen", "megrez":
            preTokenizer = PreTokenizer(splitsDigits: false, pattern: .qwen2)
            normalizesNFC = true
        default:
            return nil
        }
    }
}

extension GGUFTokenizerData {
    func makeTokenizer(source: String) throws -> any Tokenizer {
        guard !tokens.isEmpty else { throw InputError(file: source, "tokenizer.ggml.tokens is empty") }
        if let tokenTypes, tokenTypes.count != tokens.count {
            throw InputError(file: source, "tokenizer.ggml.token_type has \(tokenTypes.count) entries for \(tokens.count) tokens")
        }
        for (key, id) in [("bos", bosID), ("eos", eosID), ("unknown", unknownID)] {
            if let id, !tokens.indices.contains(id) {
                throw InputError(file: source, "tokenizer.ggml.\(key)_token_id \(id) is outside the vocabulary")
            }
        }
        switch model {
        case "gpt2": return try makeByteLevel(source: source)
        case "llama": return try makeSentencePiece(source: source)
        default: throw InputError(file: source, "unsupported tokenizer.ggml.model '\(model)'")
        }
    }

    private func type(of id: Int) -> GGUFTokenType? {
        tokenTypes.flatMap { GGUFTokenType(rawValue: $0[id]) }
    }

    private var specialIDs: Set<Int32> {
        let kinds: Set<GGUFTokenType> = [.unknown, .control, .userDefined, .unused]
        return Set(tokens.indices.filter { type(of: $0).map(kinds.contains) ?? false }.map { Int32($0) })
    }

    /// Control, unknown and user-defined tokens are split out of the text, as transformers (and
    /// llama.cpp) do for GGUF files; `accepts` filters out mislabelled ones.
    private func addedTokens(accepting accepts: (String) -> Bool) -> [AddedToken] {
        tokens.indices.compactMap { id in
            switch type(of: id) {
            case .control where accepts(tokens[id]), .unknown where accepts(tokens[id]),
                 .userDefined where accepts(tokens[id]):
                return AddedToken(content: tokens[id], id: Int32(id))
            default:
                return nil
            }
        }
    }

    private func makeByteLevel(source: String) throws -> any Tokenizer {
        guard let style = GGUFPreTokenizerStyle(pre: pre) else {
            throw InputError(file: source, "unsupported tokenizer.ggml.pre '\(pre ?? "")'")
        }
        guard let merges else { throw InputError(file: source, "tokenizer.ggml.merges is missing for a gpt2 tokenizer") }
        // A piece written in plain text rather than the byte alphabet is looked up by its byte spelling.
        let inAlphabet = { (piece: String) in piece.unicodeScalars.allSatisfy { ByteLevelEncoding.byteForScalar[$0] != nil } }
        let idsByPiece = Vocabulary(tokens.enumerated().map { id, piece in
            (inAlphabet(piece) ? piece : ByteLevelEncoding.encode(piece.utf8), Int32(id))
        })
        let pairs = try merges.enumerated().map { index, merge -> (String, String) in
            let parts = merge.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw InputError(file: source, "tokenizer.ggml.merges[\(index)] is not two tokens") }
            return (String(parts[0]), String(parts[1]))
        }
        let common = TokenizerCommon(
            pieces: tokens, idsByPiece: idsByPiece, addedTokens: addedTokens(accepting: inAlphabet),
            specialIDs: specialIDs, bosTokenID: bosID.map(Int32.init), eosTokenID: eosID.map(Int32.init),
            addsBOSByDefault: addBOS ?? false, decoder: TokenDecoder(steps: [.byteLevel]),
            summary: "byte-level BPE, pre-tokenizer \(pre ?? "default"), \(tokens.count) tokens")
        return ByteLevelBPETokenizer(
            common: common, merges: try BPEMerges(pairs: pairs, vocabulary: idsByPiece, source: source),
            preTokenizer: style.preTokenizer, normalizesNFC: style.normalizesNFC, ignoresMerges: style.ignoresMerges,
            unknown: UnknownPolicy(unknownID: nil, fusesUnknown: false))
    }

    private func makeSentencePiece(source: String) throws -> any Tokenizer {
        guard let scores, scores.count == tokens.count else {
            throw InputError(file: source, "tokenizer.ggml.scores is missing or does not match the \(tokens.count) tokens")
        }
        let idsByPiece = Vocabulary(tokens.enumerated().map { id, piece in (piece, Int32(id)) })
        let addsSpacePrefix = addSpacePrefix ?? true
        var decoderSteps: [TokenDecoder.Step] = [.replace("\u{2581}", with: " "), .byteFallback, .fuse]
        if addsSpacePrefix { decoderSteps.append(.strip(content: " ", start: 1, stop: 0)) }
        let unknown = unknownID ?? tokens.indices.first { type(of: $0) == .unknown }
        let common = TokenizerCommon(
            pieces: tokens, idsByPiece: idsByPiece, addedTokens: addedTokens(accepting: { _ in true }),
            specialIDs: specialIDs, bosTokenID: bosID.map(Int32.init), eosTokenID: eosID.map(Int32.init),
            addsBOSByDefault: addBOS ?? true, decoder: TokenDecoder(steps: decoderSteps),
            summary: "SentencePiece BPE (scores, byte fallback), \(tokens.count) tokens")
        return SentencePieceBPETokenizer(
            common: common, merging: .scored(SentencePieceScoreMerger(scores: scores)),
            spacePrefix: addsSpacePrefix ? .textStart : .none, splitsAtMetaspace: false, byteFallback: true,
            unknown: UnknownPolicy(unknownID: unknown.map(Int32.init), fusesUnknown: true))
    }
}
