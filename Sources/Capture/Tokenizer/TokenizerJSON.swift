import Foundation
import Shared

/// The parts of a Hugging Face tokenizer.json this package understands, read strictly: any type
/// it does not know is an `InputError` naming the file and the type.
struct TokenizerJSON {
    struct Model {
        var vocabulary: Vocabulary
        var entries: [(piece: String, id: Int32)]
        var merges: [(String, String)]
        var unknownToken: String?
        var byteFallback: Bool
        var fusesUnknown: Bool
        var ignoresMerges: Bool
    }

    enum Normalizer: Equatable {
        case nfc
        case prepend(String)
        case replace(String, with: String)
    }

    enum PreTokenizer: Equatable {
        case byteLevel(addsPrefixSpace: Bool, usesRegex: Bool)
        case split(SplitPattern)
        case digits(individually: Bool)
        case metaspace(replacement: String, prependScheme: String, splits: Bool)
    }

    var model: Model
    var normalizers: [Normalizer]
    var preTokenizers: [PreTokenizer]
    /// nil when the file has no decoder.
    var decoderSteps: [TokenDecoder.Step]?
    /// The special tokens the post-processor puts before the text (BOS), by content and id.
    var templatePrefix: [(content: String, id: Int32)]
    var addedTokens: [AddedToken]

    init(contentsOf url: URL) throws {
        let reader = try JSONObjectReader(contentsOf: url)
        let root = reader.root
        model = try Self.model(reader.object(root["model"] as Any, "model"), reader)
        normalizers = try Self.flatten(root["normalizer"], listKey: "normalizers", reader).map { try Self.normalizer($0, reader) }
        preTokenizers = try Self.flatten(root["pre_tokenizer"], listKey: "pretokenizers", reader).map { try Self.preTokenizer($0, reader) }
        if root["decoder"] is NSNull || root["decoder"] == nil {
            decoderSteps = nil
        } else {
            decoderSteps = try Self.flatten(root["decoder"], listKey: "decoders", reader).map { try Self.decoderStep($0, reader) }
        }
        templatePrefix = try Self.flatten(root["post_processor"], listKey: "processors", reader)
            .flatMap { try Self.templatePrefix($0, reader) }
        addedTokens = try (root["added_tokens"] as? [Any] ?? []).map { item in
            let token = try reader.object(item, "added_tokens entry")
            return AddedToken(content: try reader.string(token, "content"), id: Int32(try reader.int(token, "id")),
                              leftStrip: token["lstrip"] as? Bool ?? false,
                              rightStrip: token["rstrip"] as? Bool ?? false,
                              singleWord: token["single_word"] as? Bool ?? false)
        }
    }

    private static func model(_ json: [String: Any], _ reader: JSONObjectReader) throws -> Model {
        let type = try reader.string(json, "type")
        guard type == "BPE" else { throw reader.error("unsupported tokenizer model type '\(type)'") }
        for key in ["continuing_subword_prefix", "end_of_word_suffix", "dropout"] where !(json[key] is NSNull || json[key] == nil) {
            throw reader.error("unsupported BPE option '\(key)'")
        }
        guard let rawVocabulary = json["vocab"] as? [String: Any] else { throw reader.error("model.vocab is missing") }
        let entries = try rawVocabulary.map { piece, id -> (piece: String, id: Int32) in
            guard let id = (id as? NSNumber)?.int32Value else { throw reader.error("model.vocab['\(piece)'] is not an id") }
            return (piece, id)
        }
        let merges = try (json["merges"] as? [Any] ?? []).enumerated().map { index, merge -> (String, String) in
            if let pair = merge as? [String], pair.count == 2 { return (pair[0], pair[1]) }
            if let text = merge as? String {
                let parts = text.split(separator: " ", omittingEmptySubsequences: false)
                if parts.count == 2 { return (String(parts[0]), String(parts[1])) }
            }
            throw reader.error("model.merges[\(index)] is not a pair of tokens")
        }
        return Model(vocabulary: Vocabulary(entries.map { ($0.piece, $0.id) }), entries: entries, merges: merges, unknownToken: json["unk_token"] as? String,
                     byteFallback: json["byte_fallback"] as? Bool ?? false, fusesUnknown: json["fuse_unk"] as? Bool ?? false,
                     ignoresMerges: json["ignore_merges"] as? Bool ?? false)
    }

    /// A component and the members of `Sequence` components, in order; none for null.
    private static func flatten(_ value: Any?, listKey: String, _ reader: JSONObjectReader) throws -> [[String: Any]] {
        guard let value, !(value is NSNull) else { return [] }
        let json = try reader.object(value, listKey)
        guard json["type"] as? String == "Sequence" else { return [json] }
        guard let members = json[listKey] as? [Any] else { throw reader.error("Sequence without '\(listKey)'") }
        return try members.flatMap { try flatten($0, listKey: listKey, reader) }
    }

    private static func normalizer(_ json: [String: Any], _ reader: JSONObjectReader) throws -> Normalizer {
        switch try reader.string(json, "type") {
        case "NFC": return .nfc
        case "Prepend": return .prepend(try reader.string(json, "prepend"))
        case "Replace": return .replace(try stringPattern(json, reader), with: try reader.string(json, "content"))
        case let type: throw reader.error("unsupported normalizer type '\(type)'")
        }
    }

    private static func preTokenizer(_ json: [String: Any], _ reader: JSONObjectReader) throws -> PreTokenizer {
        switch try reader.string(json, "type") {
        case "ByteLevel":
            return .byteLevel(addsPrefixSpace: json["add_prefix_space"] as? Bool ?? true, usesRegex: json["use_regex"] as? Bool ?? true)
        case "Digits":
            return .digits(individually: json["individual_digits"] as? Bool ?? false)
        case "Split":
            let pattern = try reader.object(json["pattern"] as Any, "Split pattern")
            guard let regex = pattern["Regex"] as? String, let known = SplitPattern(regex: regex) else {
                throw reader.error("unsupported Split pattern \(pattern)")
            }
            guard json["behavior"] as? String == "Isolated", json["invert"] as? Bool != true else {
                throw reader.error("unsupported Split behavior '\(json["behavior"] ?? "")'")
            }
            return .split(known)
        case "Metaspace":
            return .metaspace(replacement: json["replacement"] as? String ?? "\u{2581}",
                              prependScheme: metaspacePrependScheme(json),
                              splits: json["split"] as? Bool ?? true)
        case let type: throw reader.error("unsupported pre_tokenizer type '\(type)'")
        }
    }

    private static func decoderStep(_ json: [String: Any], _ reader: JSONObjectReader) throws -> TokenDecoder.Step {
        switch try reader.string(json, "type") {
        case "ByteLevel": return .byteLevel
        case "ByteFallback": return .byteFallback
        case "Fuse": return .fuse
        case "Replace": return .replace(try stringPattern(json, reader), with: try reader.string(json, "content"))
        case "Strip":
            guard let content = try reader.string(json, "content").unicodeScalars.first else { throw reader.error("Strip without content") }
            return .strip(content: content, start: json["start"] as? Int ?? 0, stop: json["stop"] as? Int ?? 0)
        case "Metaspace":
            let replacement = (json["replacement"] as? String)?.unicodeScalars.first ?? "\u{2581}"
            return .metaspace(replacement: replacement, dropsPrefix: metaspacePrependScheme(json) != "never")
        case let type: throw reader.error("unsupported decoder type '\(type)'")
        }
    }

    /// Special tokens a `TemplateProcessing` puts before `$A`.
    private static func templatePrefix(_ json: [String: Any], _ reader: JSONObjectReader) throws -> [(content: String, id: Int32)] {
        switch try reader.string(json, "type") {
        case "ByteLevel": return []
        case "TemplateProcessing":
            let single = json["single"] as? [[String: Any]] ?? []
            let specials = json["special_tokens"] as? [String: Any] ?? [:]
            var prefix = [(content: String, id: Int32)]()
            for item in single {
                guard let special = item["SpecialToken"] as? [String: Any] else { break }
                let content = try reader.string(special, "id")
                let entry = try reader.object(specials[content] as Any, "special_tokens['\(content)']")
                guard let id = (entry["ids"] as? [Any])?.first.flatMap({ ($0 as? NSNumber)?.int32Value }) else {
                    throw reader.error("post_processor special token '\(content)' has no id")
                }
                prefix.append((content, id))
            }
            return prefix
        case let type: throw reader.error("unsupported post_processor type '\(type)'")
        }
    }

    private static func stringPattern(_ json: [String: Any], _ reader: JSONObjectReader) throws -> String {
        let pattern = try reader.object(json["pattern"] as Any, "pattern")
        guard let text = pattern["String"] as? String else { throw reader.error("unsupported regex pattern \(pattern)") }
        return text
    }

    /// Newer files say `prepend_scheme`; older ones `add_prefix_space` (true meaning "always").
    private static func metaspacePrependScheme(_ json: [String: Any]) -> String {
        if let scheme = json["prepend_scheme"] as? String { return scheme }
        return json["add_prefix_space"] as? Bool ?? true ? "always" : "never"
    }
}

/// tokenizer_config.json: only the special token names matter here.
struct TokenizerConfigJSON {
    var bosToken: String?
    var eosToken: String?

    init(contentsOf url: URL) throws {
        let root = try JSONObjectReader(contentsOf: url).root
        bosToken = Self.tokenName(root["bos_token"])
        eosToken = Self.tokenName(root["eos_token"])
    }

    /// A token is written either as its text or as an AddedToken object with "content".
    private static func tokenName(_ value: Any?) -> String? {
        if let text = value as? String { return text }
        return (value as? [String: Any])?["content"] as? String
    }
}

/// Reads a JSON object file, turning every problem into an `InputError` that names the file.
struct JSONObjectReader {
    let path: String
    let root: [String: Any]

    init(contentsOf url: URL) throws {
        path = url.path
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw InputError(file: url.path, "cannot be read")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data), let root = object as? [String: Any] else {
            throw InputError(file: url.path, "is not a JSON object")
        }
        self.root = root
    }

    func error(_ problem: String) -> InputError {
        InputError(file: path, problem)
    }

    func object(_ value: Any, _ what: String) throws -> [String: Any] {
        guard let object = value as? [String: Any] else { throw error("\(what) is not a JSON object") }
        return object
    }

    func string(_ json: [String: Any], _ key: String) throws -> String {
        guard let value = json[key] as? String else { throw error("'\(key)' is missing or not a string") }
        return value
    }

    func int(_ json: [String: Any], _ key: String) throws -> Int {
        guard let value = (json[key] as? NSNumber)?.intValue else { throw error("'\(key)' is missing or not a number") }
        return value
    }
}
