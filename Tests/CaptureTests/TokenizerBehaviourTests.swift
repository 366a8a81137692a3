import Capture
import Foundation
import TestSupport
import XCTest

/// BOS conventions, special-token text, readable token text and round trips, on SmolLM2's real
/// vocabulary (dumped from the GGUF) and the small SentencePiece fixtures.
final class TokenizerBehaviourTests: XCTestCase {
    private static let smolLM2 = Result { try TokenizerFixture.ggufTokenizer("smollm2") }

    private func smolLM2() throws -> any Tokenizer { try Self.smolLM2.get() }

    func testSmolLM2BOSIsOptInAndOneToken() throws {
        let tokenizer = try smolLM2()
        XCTAssertFalse(tokenizer.addsBOSByDefault)
        XCTAssertEqual(tokenizer.bosTokenID, 1)
        XCTAssertEqual(tokenizer.eosTokenID, 2)
        let plain = tokenizer.encode("The capital of France is", addBOS: false)
        XCTAssertEqual(tokenizer.encode("The capital of France is"), plain)
        XCTAssertEqual(tokenizer.encode("The capital of France is", addBOS: true), [1] + plain)
        XCTAssertEqual(tokenizer.encode("", addBOS: true), [1])
    }

    func testSpecialTokenTextBecomesTheSpecialToken() throws {
        let tokenizer = try smolLM2()
        let ids = tokenizer.encode("<|im_start|>user\nHi<|im_end|>", addBOS: false)
        XCTAssertEqual(ids.first, 1)
        XCTAssertEqual(ids.last, 2)
        XCTAssertEqual(ids.filter(tokenizer.isSpecial), [1, 2])
        XCTAssertEqual(tokenizer.decode(ids), "<|im_start|>user\nHi<|im_end|>")
        // A broken marker is ordinary text.
        XCTAssertFalse(tokenizer.encode("<|im_start|", addBOS: false).contains(1))
    }

    func testTokenTextIsReadable() throws {
        let tokenizer = try smolLM2()
        let paris = tokenizer.encode(" Paris", addBOS: false)
        XCTAssertEqual(paris.count, 1)
        XCTAssertEqual(tokenizer.tokenText(paris[0]), " Paris")
        XCTAssertEqual(tokenizer.tokenText(1), "<|im_start|>")
        XCTAssertTrue(tokenizer.isSpecial(0))
        XCTAssertFalse(tokenizer.isSpecial(paris[0]))
        XCTAssertEqual(tokenizer.tokenText(-1), "")
    }

    func testByteLevelDecodeRoundTripsTheCorpus() throws {
        let tokenizer = try smolLM2()
        for text in try TokenizerFixture.corpus() {
            XCTAssertEqual(tokenizer.decode(tokenizer.encode(text, addBOS: false)), text)
        }
    }

    func testSentencePieceBOSAndByteFallback() throws {
        let tokenizer = try TokenizerFixture.ggufTokenizer("gguf-llama")
        XCTAssertTrue(tokenizer.addsBOSByDefault)
        XCTAssertEqual(tokenizer.summary, "SentencePiece BPE (scores, byte fallback), 958 tokens")
        XCTAssertEqual(tokenizer.encode("日").first, 1)
        // "日" is not in the vocabulary: its UTF-8 bytes become byte tokens.
        let ids = tokenizer.encode("日", addBOS: false)
        XCTAssertEqual(ids.suffix(3).map(tokenizer.tokenText), ["<0xE6>", "<0x97>", "<0xA5>"])
        XCTAssertEqual(tokenizer.decode(tokenizer.encode("日 and 本", addBOS: false)), "日 and 本")
    }

    func testSentencePieceSpacePrefixFollowsTheGGUFFlag() throws {
        let prefixed = try TokenizerFixture.ggufTokenizer("gguf-llama")
        var data = try TokenizerFixture.ggufMetadata("gguf-llama")
        data.addSpacePrefix = false
        let bare = try TokenizerLoader.load(gguf: data, source: "test.gguf")
        XCTAssertEqual(prefixed.encode("the", addBOS: false).map(prefixed.tokenText).joined(), " the")
        XCTAssertEqual(bare.encode("the", addBOS: false).map(bare.tokenText).joined(), "the")
        // Text that starts with a space gets no second one, and decoding drops it, as HF does.
        XCTAssertEqual(prefixed.decode(prefixed.encode(" the", addBOS: false)), "the")
        XCTAssertEqual(bare.decode(bare.encode(" the", addBOS: false)), " the")
    }

    /// Prints the speed of `encode` and `encodeWithOffsets`; a generous bound catches accidental
    /// quadratic behaviour.
    func testEncodeSpeedOnAFewKilobytes() throws {
        let tokenizer = try smolLM2()
        let text = try String(contentsOf: Fixtures.url("tokenizers/training_text.txt"), encoding: .utf8)
        for (name, encode) in [("encode", { tokenizer.encode(text, addBOS: false).count }),
                               ("encodeWithOffsets", { tokenizer.encodeWithOffsets(text, addBOS: false).count })] {
            let start = Date()
            var tokens = 0
            for _ in 0..<5 { tokens += encode() }
            let seconds = Date().timeIntervalSince(start)
            print("SmolLM2 \(name): \(5 * text.utf8.count) bytes, \(tokens) tokens in \(String(format: "%.3f", seconds)) s"
                  + " (\(Int(Double(5 * text.utf8.count) / seconds / 1024)) KiB/s)")
            XCTAssertLessThan(seconds, 10)
        }
    }
}
