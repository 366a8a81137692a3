import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// GPT-2 checkpoints as the hub holds them: GPT2LMHeadModel files name every tensor
/// `transformer.*`, the original OpenAI ones have no prefix and carry the causal-mask buffers
/// `h.<l>.attn.bias` / `attn.masked_bias`. Both load to the same model; a tensor the
/// architecture does not use is still refused. The checkpoints are the tiny-gpt2 fixture with
/// its safetensors header rewritten.
final class GPT2CheckpointTests: XCTestCase {
    private let fixture = Fixtures.url("models/tiny-gpt2")

    func testCheckpointWithoutPrefixAndWithMaskBuffersGivesTheSameLogits() throws {
        let original = try ModelLoader.load(path: fixture.path)
        let folder = try rewrittenFixture(extraTensors: ["h.0.attn.bias", "h.1.attn.masked_bias"]) { name in
            String(name.dropFirst("transformer.".count))
        }
        let renamed = try ModelLoader.load(path: folder.url.path)
        let tokens: [Int32] = [3, 17, 250, 9, 42]
        XCTAssertEqual(try renamed.transformer.forward(tokens: tokens).logits,
                       try original.transformer.forward(tokens: tokens).logits)
    }

    func testAnUnknownTensorIsRefused() throws {
        let folder = try rewrittenFixture(extraTensors: ["transformer.h.0.attn.q_attn.weight"]) { $0 }
        assertInputError(try ModelLoader.load(path: folder.url.path), file: folder.url.path,
                         mentions: ["tensors the gpt2 architecture does not use", "h.0.attn.q_attn.weight"])
    }

    private func rewrittenFixture(extraTensors: [String], rename: (String) -> String) throws -> TemporaryDirectory {
        try rewrittenCheckpoint(of: fixture, extraTensors: extraTensors, rename: rename)
    }
}
