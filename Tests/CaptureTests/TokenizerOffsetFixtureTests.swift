import Capture
import Foundation
import TestSupport
import XCTest

/// Every flavour's byte offsets against transformers' `offset_mapping` (turned into UTF-8 byte
/// offsets by reference/make_tokenizer_fixtures.py), on the corpus, ICL prompts and text NFC changes.
///
/// They agree in this sense:
/// - Our range, widened to whole characters (Unicode scalars), is HF's: HF gives each of several
///   tokens that hold parts of one character the whole character; we give each its own bytes.
/// - Where our range is empty and HF's is not, the token stands for no text of its own (the "▁"
///   SentencePiece puts in front; a later piece of a character NFC made from fewer bytes than
///   tokens share it): HF gives it the one character at its position, which the nearest token
///   with text covers as well.
/// - Byte by byte, a byte lies in at most one of our ranges, which is one of the tokens HF says
///   cover it; it lies in none exactly where HF's lie in none (characters NFC composed into the
///   one before them).
final class TokenizerOffsetFixtureTests: XCTestCase {
    func testGPT2() throws {
        try assertOffsetsMatch(TokenizerLoader.load(directory: folder("gpt2")), flavour: "gpt2")
    }

    func testLlama3() throws {
        try assertOffsetsMatch(TokenizerLoader.load(directory: folder("llama3")), flavour: "llama3")
    }

    func testQwen2WithNFC() throws {
        try assertOffsetsMatch(TokenizerLoader.load(directory: folder("qwen2")), flavour: "qwen2")
    }

    func testGPTNeoXWithNFC() throws {
        try assertOffsetsMatch(TokenizerLoader.load(directory: folder("neox")), flavour: "neox")
    }

    func testSmolLMPreTokenizer() throws {
        try assertOffsetsMatch(TokenizerLoader.load(directory: folder("smollm")), flavour: "smollm")
    }

    func testSentencePiecePrependNormalizer() throws {
        try assertOffsetsMatch(TokenizerLoader.load(directory: folder("spm-prepend")), flavour: "spm-prepend")
    }

    func testSentencePieceMetaspace() throws {
        try assertOffsetsMatch(TokenizerLoader.load(directory: folder("spm-metaspace")), flavour: "spm-metaspace")
    }

    func testSentencePieceMetaspaceSplit() throws {
        try assertOffsetsMatch(TokenizerLoader.load(directory: folder("spm-metaspace-split")), flavour: "spm-metaspace-split")
    }

    func testGGUFLlamaScores() throws {
        try assertOffsetsMatch(TokenizerFixture.ggufTokenizer("gguf-llama"), flavour: "gguf-llama")
    }

    func testGGUFLlamaBPE() throws {
        try assertOffsetsMatch(TokenizerFixture.ggufTokenizer("gguf-llama-bpe"), flavour: "gguf-llama-bpe")
    }

    func testSmolLM2() throws {
        try assertOffsetsMatch(TokenizerFixture.ggufTokenizer("smollm2"), flavour: "smollm2")
    }

    private func folder(_ flavour: String) -> URL {
        Fixtures.url("tokenizers/\(flavour)")
    }

    private struct Reference: Decodable {
        struct Case: Decodable {
            var ids: [Int32]
            var offsets: [[Int]]
        }
        var cases: [Case]
    }

    private func assertOffsetsMatch(_ tokenizer: any Tokenizer, flavour: String,
                                    file: StaticString = #filePath, line: UInt = #line) throws {
        let corpus = try JSONDecoder().decode(
            [String].self, from: Data(contentsOf: Fixtures.url("tokenizers/offsets_corpus.json")))
        let reference = try JSONDecoder().decode(
            Reference.self, from: Data(contentsOf: folder(flavour).appendingPathComponent("offsets.json")))
        XCTAssertEqual(corpus.count, reference.cases.count, file: file, line: line)
        var matched = 0
        var firstFailure: String?
        for (text, expected) in zip(corpus, reference.cases) {
            let spans = tokenizer.encodeWithOffsets(text, addBOS: tokenizer.addsBOSByDefault)
            let hf = expected.offsets.map { $0[0]..<$0[1] }
            let problem = spans.map(\.id) != expected.ids
                ? "ids \(spans.map(\.id)) expected \(expected.ids)"
                : OffsetComparison(text: text, ours: spans.map(\.bytes), hf: hf).problem
            if let problem {
                if firstFailure == nil {
                    firstFailure = "\(flavour): \(text.debugDescription): \(problem)\n  ours \(spans.map(\.bytes))\n  hf   \(hf)"
                }
            } else {
                matched += 1
            }
        }
        XCTAssertEqual(matched, corpus.count, firstFailure ?? "", file: file, line: line)
    }
}

/// Our byte ranges against HF's for one text, in the sense `TokenizerOffsetFixtureTests` describes.
struct OffsetComparison {
    let text: String
    let ours: [Range<Int>]
    let hf: [Range<Int>]

    /// The first disagreement, or nil.
    var problem: String? {
        let utf8 = Array(text.utf8)
        guard ours.count == hf.count else { return "\(ours.count) ranges, HF has \(hf.count)" }
        var previousEnd = 0
        for range in ours {
            guard range.lowerBound >= previousEnd, range.upperBound <= utf8.count else {
                return "range \(range) overlaps the one before or leaves the text"
            }
            previousEnd = range.upperBound
        }
        // A character's bytes are one lead byte and its continuation bytes (10xxxxxx).
        func isCharacterStart(_ offset: Int) -> Bool {
            offset == utf8.count || utf8[offset] & 0xC0 != 0x80
        }
        func widened(_ range: Range<Int>) -> Range<Int> {
            guard !range.isEmpty else { return range }
            var lower = range.lowerBound, upper = range.upperBound
            while !isCharacterStart(lower) { lower -= 1 }
            while !isCharacterStart(upper) { upper += 1 }
            return lower..<upper
        }
        for (index, (ours, hf)) in zip(ours, hf).enumerated() where widened(ours) != hf {
            guard ours.isEmpty else { return "token \(index): \(ours) is not HF's \(hf) widened to characters" }
            let oneCharacter = widened(hf) == hf && (hf.lowerBound + 1..<hf.upperBound).allSatisfy { !isCharacterStart($0) }
            let atIt = hf.lowerBound <= ours.lowerBound && ours.lowerBound <= hf.upperBound
            let before = self.ours[..<index].last { !$0.isEmpty }, after = self.ours[(index + 1)...].first { !$0.isEmpty }
            let neighbourCovers = [before, after].contains { $0.map(widened)?.contains(hf.lowerBound) ?? false }
            guard oneCharacter, atIt, neighbourCovers else {
                return "token \(index): empty at \(ours.lowerBound), HF \(hf) is not a character there that a neighbour covers"
            }
        }
        for byte in utf8.indices {
            let ourTokens = ours.indices.filter { ours[$0].contains(byte) }
            let hfTokens = hf.indices.filter { hf[$0].contains(byte) }
            guard ourTokens.allSatisfy(hfTokens.contains), ourTokens.isEmpty == hfTokens.isEmpty else {
                return "byte \(byte) is in tokens \(ourTokens), HF says \(hfTokens)"
            }
        }
        return nil
    }
}
