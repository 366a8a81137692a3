import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// GPT-NeoX checkpoints as their writers name them: Pythia's hub files call the unembedding
/// `embed_out.weight` and may carry the buffers `attention.bias`, `attention.masked_bias` and
/// `attention.rotary_emb.inv_freq`; a checkpoint saved under transformers 5.x's module names has
/// `lm_head.weight`. All load to the same model; a tensor the architecture does not use, or a
/// fused query_key_value that does not split into [heads, 3, head_dim], is refused. The
/// checkpoints are the tiny-neox fixture with its safetensors header rewritten.
final class GPTNeoXCheckpointTests: XCTestCase {
    private let fixture = Fixtures.url("models/tiny-neox")

    func testLMHeadNameAndSavedBuffersGiveTheSameLogits() throws {
        let original = try ModelLoader.load(path: fixture.path)
        let buffers = ["gpt_neox.layers.0.attention.bias", "gpt_neox.layers.0.attention.masked_bias",
                       "gpt_neox.layers.1.attention.rotary_emb.inv_freq"]
        let folder = try rewrittenCheckpoint(of: fixture, extraTensors: buffers) {
            $0 == "embed_out.weight" ? "lm_head.weight" : $0
        }
        let renamed = try ModelLoader.load(path: folder.url.path)
        let tokens: [Int32] = [3, 17, 250, 9, 42]
        XCTAssertEqual(try renamed.transformer.forward(tokens: tokens).logits,
                       try original.transformer.forward(tokens: tokens).logits)
    }

    func testAnUnknownTensorIsRefused() throws {
        let folder = try rewrittenCheckpoint(of: fixture, extraTensors: ["gpt_neox.layers.0.attention.q_proj.weight"]) { $0 }
        assertInputError(try ModelLoader.load(path: folder.url.path), file: folder.url.path,
                         mentions: ["tensors the gpt_neox architecture does not use", "gpt_neox.layers.0.attention.q_proj.weight"])
    }

    func testAFusedQKVOfTheWrongSizeIsRefused() throws {
        // The real query_key_value renamed away, a 4-float one in its place.
        let name = "gpt_neox.layers.1.attention.query_key_value.weight"
        let folder = try rewrittenCheckpoint(of: fixture, extraTensors: [name]) { $0 == name ? "unused.weight" : $0 }
        assertInputError(try ModelLoader.load(path: folder.url.path), file: folder.url.path,
                         mentions: ["gpt_neox.layers.1.attention.query_key_value.q.weight has shape [4]"])
    }
}
