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

    /// A copy of the fixture folder whose model.safetensors has every name passed through
    /// `rename` and, appended, one 4-float tensor per name of `extraTensors`.
    private func rewrittenFixture(extraTensors: [String], rename: (String) -> String) throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory()
        for name in ["config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json"] {
            try FileManager.default.copyItem(at: fixture.appendingPathComponent(name), to: directory.url.appendingPathComponent(name))
        }
        let bytes = try Data(contentsOf: fixture.appendingPathComponent("model.safetensors"))
        let headerLength = Int(bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }.littleEndian)
        let header = try XCTUnwrap(JSONSerialization.jsonObject(with: bytes.subdata(in: 8..<(8 + headerLength))) as? [String: Any])
        var payload = bytes.subdata(in: (8 + headerLength)..<bytes.count)
        var rewritten: [String: Any] = [:]
        for (name, entry) in header { rewritten[name == "__metadata__" ? name : rename(name)] = entry }
        for name in extraTensors {
            let start = payload.count
            payload += Data(count: 16)
            rewritten[name] = ["dtype": "F32", "shape": [4], "data_offsets": [start, start + 16]]
        }
        var json = try JSONSerialization.data(withJSONObject: rewritten, options: [.sortedKeys])
        json += Data(repeating: 0x20, count: (8 - json.count % 8) % 8)
        var file = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file += $0 }
        try directory.write(file + json + payload, to: "model.safetensors")
        return directory
    }
}
