import Foundation
import Shared

/// Builds a tokenizer from GGUF metadata or from a Hugging Face tokenizer folder.
public enum TokenizerLoader {
    /// `source` is the GGUF file's path, for error messages.
    public static func load(gguf: GGUFTokenizerData, source: String) throws -> any Tokenizer {
        try gguf.makeTokenizer(source: source)
    }

    /// A folder with tokenizer.json and, optionally, tokenizer_config.json (for the BOS/EOS names).
    public static func load(directory: URL) throws -> any Tokenizer {
        let tokenizerURL = directory.appendingPathComponent("tokenizer.json")
        guard FileManager.default.fileExists(atPath: tokenizerURL.path) else {
            throw InputError(file: directory.path, "has no tokenizer.json")
        }
        let json = try TokenizerJSON(contentsOf: tokenizerURL)
        let configURL = directory.appendingPathComponent("tokenizer_config.json")
        let config = FileManager.default.fileExists(atPath: configURL.path) ? try TokenizerConfigJSON(contentsOf: configURL) : nil
        return try makeTokenizer(json, config: config, source: tokenizerURL.path)
    }

    private static func makeTokenizer(_ json: TokenizerJSON, config: TokenizerConfigJSON?, source: String) throws -> any Tokenizer {
        let model = json.model
        let maxID = max(model.entries.map(\.id).max() ?? -1, json.addedTokens.map(\.id).max() ?? -1)
        var pieces = [String](repeating: "", count: Int(maxID) + 1)
        for (piece, id) in model.entries where id >= 0 { pieces[Int(id)] = piece }
        func id(of name: String?) -> Int32? {
            guard let name else { return nil }
            return json.addedTokens.first { $0.content.utf8.elementsEqual(name.utf8) }?.id ?? model.vocabulary[name]
        }
        // As in transformers 5, the post-processor alone decides whether BOS is added.
        let byteLevel = json.preTokenizers.contains { if case .byteLevel = $0 { return true } else { return false } }
        let unknown = UnknownPolicy(unknownID: id(of: model.unknownToken), fusesUnknown: model.fusesUnknown)
        let merges = try BPEMerges(pairs: model.merges, vocabulary: model.vocabulary, source: source)
        func common(decoder: [TokenDecoder.Step], summary: String) -> TokenizerCommon {
            TokenizerCommon(pieces: pieces, idsByPiece: model.vocabulary, addedTokens: json.addedTokens, specialIDs: [],
                            bosTokenID: json.templatePrefix.first?.id ?? id(of: config?.bosToken),
                            eosTokenID: id(of: config?.eosToken), addsBOSByDefault: !json.templatePrefix.isEmpty,
                            decoder: TokenDecoder(steps: decoder), summary: summary + ", \(pieces.count) tokens")
        }

        if byteLevel {
            let (preTokenizer, name) = try byteLevelPreTokenizer(json.preTokenizers, source: source)
            guard json.normalizers.isEmpty || json.normalizers == [.nfc] else {
                throw InputError(file: source, "unsupported normalizer \(json.normalizers) for byte-level BPE")
            }
            guard json.decoderSteps == nil || json.decoderSteps == [.byteLevel] else {
                throw InputError(file: source, "unsupported decoder \(json.decoderSteps ?? []) for byte-level BPE")
            }
            let nfc = json.normalizers == [.nfc]
            return ByteLevelBPETokenizer(
                common: common(decoder: [.byteLevel], summary: "byte-level BPE, pre-tokenizer \(name)\(nfc ? " (NFC)" : "")"),
                merges: merges, preTokenizer: preTokenizer, normalizesNFC: nfc, ignoresMerges: model.ignoresMerges,
                unknown: unknown)
        }

        let (spacePrefix, splits) = try sentencePieceSpacing(json, source: source)
        let decoder = json.decoderSteps ?? [.replace("\u{2581}", with: " "), .byteFallback, .fuse]
        let summary = "SentencePiece BPE (tokenizer.json\(model.byteFallback ? ", byte fallback" : ""))"
        return SentencePieceBPETokenizer(
            common: common(decoder: decoder, summary: summary), merging: .ranked(merges), spacePrefix: spacePrefix,
            splitsAtMetaspace: splits, byteFallback: model.byteFallback, unknown: unknown)
    }

    /// The byte-level pipelines in use: ByteLevel's own GPT-2 regex, SmolLM2's digits-then-ByteLevel,
    /// or a Split with a known regex before a regex-free ByteLevel.
    private static func byteLevelPreTokenizer(_ steps: [TokenizerJSON.PreTokenizer], source: String) throws -> (PreTokenizer, String) {
        if steps == [.byteLevel(addsPrefixSpace: false, usesRegex: true)] {
            return (PreTokenizer(splitsDigits: false, pattern: .gpt2), "gpt2")
        }
        if steps == [.digits(individually: true), .byteLevel(addsPrefixSpace: false, usesRegex: true)] {
            return (PreTokenizer(splitsDigits: true, pattern: .gpt2), "smollm")
        }
        if steps.count == 2, case let .split(pattern) = steps[0],
           steps[1] == .byteLevel(addsPrefixSpace: false, usesRegex: false) {
            return (PreTokenizer(splitsDigits: false, pattern: pattern), pattern.rawValue)
        }
        throw InputError(file: source, "unsupported pre_tokenizer combination \(steps)")
    }

    /// Llama 2 style (normalizer Prepend("▁") + Replace(" ", "▁")) or the Metaspace pre-tokenizer.
    private static func sentencePieceSpacing(_ json: TokenizerJSON, source: String) throws
        -> (SentencePieceBPETokenizer.SpacePrefix, Bool) {
        let metaspace = "\u{2581}"
        if json.normalizers == [.prepend(metaspace), .replace(" ", with: metaspace)], json.preTokenizers.isEmpty {
            return (.everySegment, false)
        }
        if json.normalizers == [.replace(" ", with: metaspace)], json.preTokenizers.isEmpty {
            return (.none, false)
        }
        if json.normalizers.isEmpty, json.preTokenizers.count == 1,
           case let .metaspace(replacement, scheme, splits) = json.preTokenizers[0], replacement == metaspace {
            switch scheme {
            case "first": return (.textStart, splits)
            case "always": return (.segmentStart, splits)
            case "never": return (.none, splits)
            default: throw InputError(file: source, "unsupported Metaspace prepend_scheme '\(scheme)'")
            }
        }
        throw InputError(file: source, "unsupported normalizer \(json.normalizers) with pre_tokenizer \(json.preTokenizers)")
    }
}
