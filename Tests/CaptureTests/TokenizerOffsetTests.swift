import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// What `encodeWithOffsets` reports, by example, and on random ICL prompts for every flavour:
/// the ids of `encode`, and ranges that tile the text.
final class TokenizerOffsetTests: XCTestCase {
    private static let flavours = Result { try TokenizerOffsetTests.loadFlavours() }

    private static func loadFlavours() throws -> [(name: String, tokenizer: any Tokenizer)] {
        let folders = ["gpt2", "llama3", "qwen2", "neox", "smollm", "spm-prepend", "spm-metaspace", "spm-metaspace-split"]
        return try folders.map { ($0, try TokenizerLoader.load(directory: Fixtures.url("tokenizers/\($0)"))) }
            + ["gguf-llama", "gguf-llama-bpe", "smollm2"].map { ($0, try TokenizerFixture.ggufTokenizer($0)) }
    }

    private func tokenizer(_ name: String) throws -> any Tokenizer {
        try XCTUnwrap(Self.flavours.get().first { $0.name == name }).tokenizer
    }

    /// Each token's text, as the slice of `text` its range covers.
    private func slices(_ spans: [TokenSpan], of text: String) -> [String] {
        spans.map { String(decoding: Array(text.utf8)[$0.bytes], as: UTF8.self) }
    }

    func testICLPromptTokensCoverTheirTextAndBOSNone() throws {
        let text = "Q: hot\nA: cold\n\nQ: big\nA:"
        let spans = try tokenizer("smollm2").encodeWithOffsets(text, addBOS: true)
        XCTAssertEqual(spans.first, TokenSpan(id: 1, bytes: 0..<0))
        XCTAssertEqual(slices(spans, of: text),
                       ["", "Q", ":", " hot", "\n", "A", ":", " cold", "\n", "\n", "Q", ":", " big", "\n", "A", ":"])
        // The query word's token, found from its bytes: " big" starts at the space before it.
        let big = text.utf8.count - " big\nA:".utf8.count
        XCTAssertEqual(spans.firstIndex { $0.bytes.contains(big) && $0.bytes.contains(big + 3) }, 12)
    }

    func testSpecialTokenTextIsCoveredByTheSpecialToken() throws {
        let text = "<|im_start|>user\nHi<|im_end|>"
        let spans = try tokenizer("smollm2").encodeWithOffsets(text, addBOS: false)
        XCTAssertEqual(spans.map(\.id), [1, 4093, 198, 26843, 2])
        XCTAssertEqual(slices(spans, of: text), ["<|im_start|>", "user", "\n", "Hi", "<|im_end|>"])
    }

    func testByteLevelTokensThatSplitACharacterGetItsBytes() throws {
        // 日 is two tokens of two and one bytes; " 😀" is a space and three bytes, then one byte.
        let spans = try tokenizer("smollm2").encodeWithOffsets("日本 😀!", addBOS: false)
        XCTAssertEqual(spans.map(\.bytes), [0..<2, 2..<3, 3..<6, 6..<10, 10..<11, 11..<12])
    }

    func testSentencePiecePrefixCoversNoTextAndSpacesAreTheirMetaspaces() throws {
        let tokenizer = try tokenizer("spm-metaspace")
        XCTAssertEqual(slices(tokenizer.encodeWithOffsets("the cat", addBOS: false), of: "the cat"), ["the", " c", "at"])
        XCTAssertEqual(slices(tokenizer.encodeWithOffsets(" the", addBOS: false), of: " the"), [" the"])
        // "日" is outside the vocabulary: the prefix "▁" stands alone, then one byte token per byte.
        let spans = tokenizer.encodeWithOffsets("日 and", addBOS: true)
        XCTAssertEqual(spans.map { tokenizer.tokenText($0.id) }, ["<s>", " ", "<0xE6>", "<0x97>", "<0xA5>", " and"])
        XCTAssertEqual(spans.map(\.bytes), [0..<0, 0..<0, 0..<1, 1..<2, 2..<3, 3..<7])
    }

    func testNFCOffsetsPointIntoTheTextBeforeNormalization() throws {
        // e + U+0301 becomes "é", which covers the "e" as in HF; no token covers the U+0301.
        let spans = try tokenizer("qwen2").encodeWithOffsets("e\u{301} x", addBOS: false)
        XCTAssertEqual(spans.map(\.bytes), [0..<1, 3..<4, 4..<5])
    }

    func testStrippingAddedTokenCoversTheWhitespaceItAbsorbs() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokenizer-offsets-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let original = try Data(contentsOf: Fixtures.url("tokenizers/gpt2/tokenizer.json"))
        var json = try XCTUnwrap(JSONSerialization.jsonObject(with: original) as? [String: Any])
        var added = try XCTUnwrap(json["added_tokens"] as? [[String: Any]])
        let index = try XCTUnwrap(added.firstIndex { $0["content"] as? String == "<|im_start|>" })
        added[index]["lstrip"] = true
        added[index]["rstrip"] = true
        json["added_tokens"] = added
        try JSONSerialization.data(withJSONObject: json).write(to: directory.appendingPathComponent("tokenizer.json"))

        let text = "a  <|im_start|>  b"
        let spans = try TokenizerLoader.load(directory: directory).encodeWithOffsets(text, addBOS: false)
        XCTAssertEqual(slices(spans, of: text), ["a", "  <|im_start|>  ", "b"])
    }

    /// Random ICL prompts from words, labels and separators, with chat markers, in every flavour:
    /// the ids are those of `encode`, the ranges tile the text, and for byte-level flavours the
    /// tokens before each character boundary decode to the text before it.
    func testRandomICLPromptsKeepTheIDsOfEncodeAndTileTheText() throws {
        let words = ["hot", "cold", "big", "small", "Paris", "France", "naïve", "café", "東京", "日本", "😀", "👍🏽",
                     "don't", "they'll", "42", "3.14", "1,000", "Ελλάδα", "привет", "ok", "<s>", "▁x", "a\u{00A0}b"]
        let labels = ["Q: ", "A: ", "Input: ", "Output: ", "", "<|im_start|>user\n", "<|im_end|>\n<|im_start|>assistant\n"]
        let separators = [" ", "\n", "\n\n", " => ", "\t", "\r\n", ", ", "  ", ""]
        var random = SplitMix64(seed: 20_240_601)
        func pick(_ options: [String]) -> String { options[random.uniform(below: options.count)] }
        var prompts = [String]()
        for _ in 0..<40 {
            var prompt = random.uniform(below: 3) == 0 ? " " : ""
            for _ in 0..<1 + random.uniform(below: 4) {
                prompt += pick(labels) + pick(words) + pick(separators) + pick(labels) + pick(words) + pick(separators)
            }
            prompts.append(prompt + pick(labels) + pick(words) + pick(separators) + pick(labels))
        }
        let byteLevel: Set = ["gpt2", "llama3", "qwen2", "neox", "smollm", "gguf-llama-bpe", "smollm2"]
        for (name, tokenizer) in try Self.flavours.get() {
            for prompt in prompts {
                for addBOS in [false, true] {
                    let spans = tokenizer.encodeWithOffsets(prompt, addBOS: addBOS)
                    XCTAssertEqual(spans.map(\.id), tokenizer.encode(prompt, addBOS: addBOS), "\(name) \(prompt.debugDescription)")
                    let covered = spans.map(\.bytes).filter { !$0.isEmpty }
                    XCTAssertEqual(covered.first?.lowerBound ?? 0, 0, "\(name) \(prompt.debugDescription)")
                    XCTAssertEqual(covered.last?.upperBound ?? 0, prompt.utf8.count, "\(name) \(prompt.debugDescription)")
                    XCTAssertTrue(zip(covered, covered.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound },
                                  "\(name) \(prompt.debugDescription): \(spans.map(\.bytes))")
                }
                guard byteLevel.contains(name) else { continue }
                let spans = tokenizer.encodeWithOffsets(prompt, addBOS: false)
                let utf8 = Array(prompt.utf8)
                for (index, span) in spans.enumerated() where span.bytes.lowerBound == utf8.count || utf8[span.bytes.lowerBound] & 0xC0 != 0x80 {
                    XCTAssertEqual(tokenizer.decode(spans[..<index].map(\.id)), String(decoding: utf8[..<span.bytes.lowerBound], as: UTF8.self),
                                   "\(name) \(prompt.debugDescription) before token \(index)")
                }
            }
        }
    }
}
