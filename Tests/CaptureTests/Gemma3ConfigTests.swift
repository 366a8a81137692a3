import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// Gemma 3 text configs (`gemma3_text`) read as transformers 5.x's Gemma3TextConfig reads them,
/// and the options the engine does not compute refused with one line naming the file.
final class Gemma3ConfigTests: XCTestCase {
    private let sizes = #""model_type": "gemma3_text", "vocab_size": 300, "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 7, "num_attention_heads": 4, "num_key_value_heads": 1, "head_dim": 32"#

    private func decode(_ extra: String = "") throws -> ModelConfig {
        let text = "{" + sizes + (extra.isEmpty ? "" : ", " + extra) + "}"
        return try HuggingFaceConfig(data: Data(text.utf8), source: "gemma/config.json").modelConfig
    }

    private func assertRejected(_ json: String, mentions fragment: String, line: UInt = #line) {
        XCTAssertThrowsError(try HuggingFaceConfig(data: Data(json.utf8), source: "gemma/config.json"), line: line) { error in
            guard let inputError = error as? InputError else { return XCTFail("not an InputError: \(error)", line: line) }
            XCTAssertEqual(inputError.file, "gemma/config.json", line: line)
            XCTAssertFalse(inputError.description.contains("\n"), line: line)
            XCTAssertTrue(inputError.problem.contains(fragment), "\(inputError.problem) lacks \(fragment)", line: line)
        }
    }

    func testDefaultsFollowGemma3TextConfig() throws {
        let c = try decode()
        XCTAssertEqual(c.architecture, .gemma3)
        XCTAssertEqual(c.architecture.mlp, .geGLU)
        XCTAssertTrue(c.architecture.normsBlockOutputs && c.architecture.normsQueriesAndKeys)
        XCTAssertEqual(c.headDim, 32, "head_dim from the config, not 64 / 4")
        XCTAssertEqual(c.normEpsilon, 1e-6)
        XCTAssertTrue(c.tiedEmbeddings)
        XCTAssertFalse(c.attentionQKVBias || c.attentionOutputBias)
        XCTAssertEqual(c.contextLength, 131_072)
        // sliding_window_pattern 6: layer 5 is global, the others slide over 4096 tokens.
        XCTAssertEqual((0..<7).map { c.attentionWindow(layer: $0) }, [4096, 4096, 4096, 4096, 4096, nil, 4096])
        XCTAssertEqual(c.ropeTheta(layer: 0), 10_000)
        XCTAssertEqual(c.ropeTheta(layer: 5), 1_000_000)
        XCTAssertEqual(c.attentionScale, 1.0 / 16, "query_pre_attn_scalar 256")
        XCTAssertEqual(c.embeddingScale, Float(Double(64).squareRoot()))
    }

    func testRopeBasesAndLayerTypesAsWrittenBy5xAnd4x() throws {
        let v5 = try decode(#""rope_parameters": {"sliding_attention": {"rope_type": "default", "rope_theta": 5.0}, "full_attention": {"rope_type": "default", "rope_theta": 7.0}}, "layer_types": ["full_attention", "sliding_attention", "full_attention", "sliding_attention", "sliding_attention", "sliding_attention", "full_attention"], "sliding_window": 3, "query_pre_attn_scalar": 100"#)
        XCTAssertEqual((0..<7).map { v5.attentionWindow(layer: $0) }, [nil, 3, nil, 3, 3, 3, nil])
        XCTAssertEqual(v5.ropeTheta(layer: 0), 7)
        XCTAssertEqual(v5.ropeTheta(layer: 1), 5)
        XCTAssertEqual(v5.attentionScale, 0.1)
        let v4 = try decode(#""rope_theta": 20.0, "rope_local_base_freq": 2.0, "sliding_window_pattern": 2, "rope_scaling": null"#)
        XCTAssertEqual((0..<4).map { v4.attentionWindow(layer: $0) != nil }, [true, false, true, false])
        XCTAssertEqual(v4.ropeTheta(layer: 0), 2)
        XCTAssertEqual(v4.ropeTheta(layer: 1), 20)
    }

    func testConfigsTheEngineDoesNotComputeAreRefused() {
        let base = "{" + sizes
        assertRejected(#"{"model_type": "gemma3_text", "vocab_size": 300, "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4}"#,
                       mentions: "head_dim is missing")
        assertRejected(base + #", "final_logit_softcapping": 30.0}"#, mentions: "final_logit_softcapping")
        assertRejected(base + #", "attn_logit_softcapping": 50.0}"#, mentions: "attn_logit_softcapping")
        assertRejected(base + #", "use_bidirectional_attention": true}"#, mentions: "use_bidirectional_attention")
        assertRejected(base + #", "hidden_activation": "gelu"}"#, mentions: "hidden_activation gelu")
        assertRejected(base + #", "rope_scaling": {"rope_type": "linear", "factor": 8.0}}"#, mentions: "rope type linear")
        assertRejected(base + #", "layer_types": ["full_attention"]}"#, mentions: "layer_types names 1 layers")
        assertRejected(base + #", "layer_types": ["full_attention", "chunked_attention", "full_attention", "full_attention", "full_attention", "full_attention", "full_attention"]}"#,
                       mentions: "chunked_attention")
        assertRejected(base + #", "query_pre_attn_scalar": 0}"#, mentions: "query_pre_attn_scalar")
        assertRejected(#"{"model_type": "gemma3", "text_config": {}}"#, mentions: "gemma3_text")
    }
}
