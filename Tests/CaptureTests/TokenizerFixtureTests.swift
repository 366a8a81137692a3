import Capture
import Foundation
import TestSupport
import XCTest

/// Every fixture flavour against the ids, special-token ids and decodes transformers produced
/// for the hard-string corpus (reference/make_tokenizer_fixtures.py).
final class TokenizerFixtureTests: XCTestCase {
    func testByteLevelGPT2MatchesTransformers() throws {
        try assertMatchesReference(TokenizerLoader.load(directory: folder("gpt2")), flavour: "gpt2")
    }

    func testByteLevelLlama3MatchesTransformers() throws {
        try assertMatchesReference(TokenizerLoader.load(directory: folder("llama3")), flavour: "llama3")
    }

    func testByteLevelQwen2MatchesTransformers() throws {
        try assertMatchesReference(TokenizerLoader.load(directory: folder("qwen2")), flavour: "qwen2")
    }

    func testByteLevelGPTNeoXWithNFCMatchesTransformers() throws {
        try assertMatchesReference(TokenizerLoader.load(directory: folder("neox")), flavour: "neox")
    }

    func testByteLevelSmolLMPreTokenizerMatchesTransformers() throws {
        try assertMatchesReference(TokenizerLoader.load(directory: folder("smollm")), flavour: "smollm")
    }

    func testSentencePiecePrependNormalizerMatchesTransformers() throws {
        try assertMatchesReference(TokenizerLoader.load(directory: folder("spm-prepend")), flavour: "spm-prepend")
    }

    func testSentencePieceMetaspaceMatchesTransformers() throws {
        try assertMatchesReference(TokenizerLoader.load(directory: folder("spm-metaspace")), flavour: "spm-metaspace")
    }

    func testSentencePieceMetaspaceSplitMatchesTransformers() throws {
        try assertMatchesReference(TokenizerLoader.load(directory: folder("spm-metaspace-split")), flavour: "spm-metaspace-split")
    }

    func testGGUFLlamaScoresMatchTransformers() throws {
        try assertMatchesReference(TokenizerFixture.ggufTokenizer("gguf-llama"), flavour: "gguf-llama")
    }

    func testGGUFLlamaBPEMatchesLlama3TokenizerJSON() throws {
        try assertMatchesReference(TokenizerFixture.ggufTokenizer("gguf-llama-bpe"), flavour: "gguf-llama-bpe")
    }

    func testSmolLM2MatchesHuggingFace() throws {
        let tokenizer = try TokenizerFixture.ggufTokenizer("smollm2")
        XCTAssertEqual(tokenizer.vocabularySize, 49152)
        XCTAssertEqual(tokenizer.summary, "byte-level BPE, pre-tokenizer smollm, 49152 tokens")
        XCTAssertEqual(tokenizer.encode("Hello world! 123", addBOS: false), [19556, 905, 17, 216, 33, 34, 35])
        try assertMatchesReference(tokenizer, flavour: "smollm2")
    }

    private func folder(_ flavour: String) -> URL {
        Fixtures.url("tokenizers/\(flavour)")
    }

    private func assertMatchesReference(_ tokenizer: any Tokenizer, flavour: String,
                                        file: StaticString = #filePath, line: UInt = #line) throws {
        let reference = try TokenizerFixture.reference(flavour)
        let corpus = try TokenizerFixture.corpus()
        XCTAssertEqual(corpus.count, reference.cases.count, file: file, line: line)
        XCTAssertEqual(tokenizer.bosTokenID, reference.bosID, "\(flavour) BOS", file: file, line: line)
        XCTAssertEqual(tokenizer.eosTokenID, reference.eosID, "\(flavour) EOS", file: file, line: line)
        XCTAssertEqual(tokenizer.addsBOSByDefault, reference.addBOS, "\(flavour) adds BOS", file: file, line: line)
        var matched = 0
        var firstFailure: String?
        for (text, expected) in zip(corpus, reference.cases) {
            let ids = tokenizer.encode(text, addBOS: false)
            let withSpecial = tokenizer.encode(text)
            let decoded = tokenizer.decode(expected.ids)
            if ids == expected.ids, withSpecial == expected.idsWithSpecial, decoded == expected.decoded {
                matched += 1
            } else if firstFailure == nil {
                firstFailure = "\(flavour): \(text.debugDescription)\n  ids      \(ids)\n  expected \(expected.ids)"
                    + "\n  with special \(withSpecial) expected \(expected.idsWithSpecial)"
                    + "\n  decoded \(decoded.debugDescription) expected \(expected.decoded.debugDescription)"
            }
        }
        XCTAssertEqual(matched, corpus.count, firstFailure ?? "", file: file, line: line)
    }
}

/// Reads the committed tokenizer fixtures.
enum TokenizerFixture {
    struct Reference: Decodable {
        struct Case: Decodable {
            var ids: [Int32]
            var idsWithSpecial: [Int32]
            var decoded: String
            enum CodingKeys: String, CodingKey {
                case ids, decoded
                case idsWithSpecial = "ids_with_special"
            }
        }
        var bosID: Int32?
        var eosID: Int32?
        var addBOS: Bool
        var cases: [Case]
        enum CodingKeys: String, CodingKey {
            case cases
            case bosID = "bos_id", eosID = "eos_id", addBOS = "add_bos"
        }
    }

    /// The tokenizer.ggml.* dump written next to each GGUF fixture.
    struct GGUFMetadata: Decodable {
        var model: String
        var pre: String?
        var tokens: [String]
        var tokenTypes: [Int]?
        var merges: [String]?
        var scores: [Float]?
        var bosID: Int?, eosID: Int?, unknownID: Int?, paddingID: Int?
        var addBOS: Bool?, addEOS: Bool?, addSpacePrefix: Bool?

        var data: GGUFTokenizerData {
            GGUFTokenizerData(model: model, pre: pre, tokens: tokens, tokenTypes: tokenTypes, merges: merges,
                              scores: scores, bosID: bosID, eosID: eosID, unknownID: unknownID, paddingID: paddingID,
                              addBOS: addBOS, addEOS: addEOS, addSpacePrefix: addSpacePrefix)
        }
    }

    static func corpus() throws -> [String] {
        try JSONDecoder().decode([String].self, from: Data(contentsOf: Fixtures.url("tokenizers/corpus.json")))
    }

    static func reference(_ flavour: String) throws -> Reference {
        try JSONDecoder().decode(Reference.self, from: Data(contentsOf: Fixtures.url("tokenizers/\(flavour)/expected.json")))
    }

    static func ggufMetadata(_ flavour: String) throws -> GGUFTokenizerData {
        let url = Fixtures.url("tokenizers/\(flavour)/metadata.json")
        return try JSONDecoder().decode(GGUFMetadata.self, from: Data(contentsOf: url)).data
    }

    static func ggufTokenizer(_ flavour: String) throws -> any Tokenizer {
        try TokenizerLoader.load(gguf: ggufMetadata(flavour), source: "\(flavour)/tokenizer.gguf")
    }
}
