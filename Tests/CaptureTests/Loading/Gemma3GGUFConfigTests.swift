import Capture
import Foundation
import Shared
import XCTest

/// What a gemma3 GGUF does not store (the local layers, their RoPE base, the attention scale) is
/// filled with Gemma 3's defaults; what the engine cannot compute, or a missing window, is
/// refused at load with one line naming the file (before any tensor is read).
final class Gemma3GGUFConfigTests: XCTestCase {
    private var directory: TemporaryGGUFDirectory!

    override func setUpWithError() throws {
        directory = try TemporaryGGUFDirectory()
    }

    /// A gemma3 file's metadata, without tensors: the config is read and checked first.
    private func metadataOnly(layers: Int, window: UInt32?, extra: [(String, GGUFValue)] = []) throws -> String {
        var builder = GGUFBuilder()
        builder.add("general.architecture", .string("gemma3"))
        builder.add("gemma3.embedding_length", .uint32(8))
        builder.add("gemma3.block_count", .uint32(UInt32(layers)))
        builder.add("gemma3.attention.head_count", .uint32(2))
        builder.add("gemma3.attention.head_count_kv", .uint32(1))
        builder.add("gemma3.attention.key_length", .uint32(6))
        builder.add("gemma3.feed_forward_length", .uint32(16))
        builder.add("gemma3.attention.layer_norm_rms_epsilon", .float32(1e-6))
        builder.add("gemma3.rope.freq_base", .float32(1_000_000))
        builder.add("gemma3.context_length", .uint32(64))
        builder.add("gemma3.vocab_size", .uint32(10))
        if let window { builder.add("gemma3.attention.sliding_window", .uint32(window)) }
        for (key, value) in extra { builder.add(key, value) }
        return try directory.write(builder.build(), name: "gemma3.gguf")
    }

    private func assertRefused(_ path: String, mentions fragment: String, line: UInt = #line) {
        XCTAssertThrowsError(try ModelLoader.load(path: path), line: line) { error in
            guard let inputError = error as? InputError else { return XCTFail("not an InputError: \(error)", line: line) }
            XCTAssertEqual(inputError.file, path, line: line)
            XCTAssertTrue(inputError.problem.contains(fragment), "\(inputError.problem) lacks \(fragment)", line: line)
        }
    }

    func testCompleteMetadataGetsPastTheConfig() throws {
        // Nothing is missing from the config: loading goes on to the tokenizer, which this file lacks.
        assertRefused(try metadataOnly(layers: 12, window: 5), mentions: "has no tokenizer")
    }

    func testAMissingWindowAndSoftcappingAreRefused() throws {
        assertRefused(try metadataOnly(layers: 2, window: nil), mentions: "missing metadata key gemma3.attention.sliding_window")
        assertRefused(try metadataOnly(layers: 2, window: 4, extra: [("gemma3.final_logit_softcapping", .float32(30))]),
                      mentions: "unsupported gemma3.final_logit_softcapping")
        assertRefused(try metadataOnly(layers: 2, window: 4, extra: [("gemma3.attn_logit_softcapping", .float32(50))]),
                      mentions: "unsupported gemma3.attn_logit_softcapping")
    }
}
