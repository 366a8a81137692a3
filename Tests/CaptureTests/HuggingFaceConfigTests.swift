import Capture
import Foundation
import Shared
import TestSupport
import XCTest

final class HuggingFaceConfigTests: XCTestCase {
    /// What transformers itself makes of each fixture config (reference/make_safetensors_fixtures.py).
    private struct Expected: Decodable {
        let modelConfig: ModelConfig
        let slidingWindow: Int?
    }

    private func fixture(_ name: String) -> URL {
        Fixtures.url("safetensors/configs/\(name).json")
    }

    func testEveryFixtureConfigDecodesAsTransformersReadsIt() throws {
        let expected = try JSONDecoder().decode([String: Expected].self,
                                                from: Data(contentsOf: fixture("expected")))
        XCTAssertGreaterThanOrEqual(expected.count, 11)
        for (name, want) in expected.sorted(by: { $0.key < $1.key }) {
            let decoded = try HuggingFaceConfig(contentsOf: fixture(name))
            // The fixture keeps Mistral's window beside the config; the engine's config holds it.
            var wantConfig = want.modelConfig
            wantConfig.slidingWindow = want.slidingWindow
            XCTAssertEqual(decoded.modelConfig, wantConfig, name)
            XCTAssertEqual(decoded.slidingWindow, want.slidingWindow, name)
            XCTAssertEqual(try ModelConfig(huggingFaceConfigAt: fixture(name)), wantConfig, name)
        }
    }

    func testLlama3WithGroupedQueriesAndAnExplicitHeadDim() throws {
        let config = try ModelConfig(huggingFaceConfigAt: fixture("llama3_gqa"))
        XCTAssertEqual(config.architecture, .llama)
        XCTAssertEqual(config.headCount, 4)
        XCTAssertEqual(config.kvHeadCount, 2)
        XCTAssertEqual(config.headDim, 32, "head_dim from the config, not hidden_size / heads")
        XCTAssertEqual(config.ropeTheta, 500_000)
        XCTAssertEqual(config.ropeScaling, .init(factor: 8, lowFrequencyFactor: 1, highFrequencyFactor: 4,
                                                 originalMaxPositionEmbeddings: 256))
        XCTAssertFalse(config.tiedEmbeddings)
    }

    func testQwen2HasQKVBiasesAndTiedEmbeddings() throws {
        let config = try ModelConfig(huggingFaceConfigAt: fixture("qwen2_tied"))
        XCTAssertEqual(config.architecture, .qwen2)
        XCTAssertTrue(config.attentionQKVBias)
        XCTAssertFalse(config.attentionOutputBias)
        XCTAssertTrue(config.tiedEmbeddings)
        XCTAssertEqual(config.headDim, 16)
        XCTAssertEqual(config.ropeTheta, 1_000_000)
    }

    func testMistralIsTheLlamaEngineWithItsSlidingWindowExposed() throws {
        let mistral = try HuggingFaceConfig(contentsOf: fixture("mistral"))
        XCTAssertEqual(mistral.modelType, "mistral")
        XCTAssertEqual(mistral.modelConfig.architecture, .llama)
        XCTAssertEqual(mistral.slidingWindow, 32)
        XCTAssertEqual(try HuggingFaceConfig(contentsOf: fixture("minimal_mistral")).slidingWindow, 4096)
        XCTAssertNil(try HuggingFaceConfig(contentsOf: fixture("llama2_like")).slidingWindow)
    }

    func testAbsentFieldsTakeEachConfigClassesDefaults() throws {
        let llama = try ModelConfig(huggingFaceConfigAt: fixture("minimal_llama"))
        XCTAssertEqual(llama.kvHeadCount, llama.headCount)
        XCTAssertEqual(llama.contextLength, 2048)
        XCTAssertEqual(llama.normEpsilon, 1e-6)
        XCTAssertEqual(llama.ropeTheta, 10000)
        XCTAssertNil(llama.ropeScaling)
        XCTAssertFalse(llama.tiedEmbeddings)
        XCTAssertEqual(try ModelConfig(huggingFaceConfigAt: fixture("minimal_mistral")).kvHeadCount, 8)
        XCTAssertEqual(try ModelConfig(huggingFaceConfigAt: fixture("minimal_qwen2")).kvHeadCount, 32)
    }

    func testLegacyRopeScalingAndTorchDtypeAreRead() throws {
        let legacy = try HuggingFaceConfig(contentsOf: fixture("legacy_llama3_2_1b"))
        XCTAssertEqual(legacy.dtype, "bfloat16")
        XCTAssertEqual(legacy.modelConfig.ropeTheta, 500_000)
        XCTAssertEqual(legacy.modelConfig.ropeScaling?.factor, 32)
        XCTAssertTrue(legacy.modelConfig.tiedEmbeddings)
    }

    // MARK: Rejections

    private func assertRejected(_ json: String, mentions fragments: [String],
                                file: StaticString = #filePath, line: UInt = #line) throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write(Data(json.utf8), to: "config.json")
        assertInputError(try ModelConfig(huggingFaceConfigAt: URL(fileURLWithPath: path)), file: path,
                         mentions: fragments, json, file: file, line: line)
    }

    /// A small valid config of `modelType` with `extra` fields (JSON members) appended.
    private func config(_ modelType: String = "llama", _ extra: String = "") -> String {
        """
        {"model_type": "\(modelType)", "vocab_size": 10, "hidden_size": 16, "num_hidden_layers": 1,
         "num_attention_heads": 2, "num_key_value_heads": 1, "intermediate_size": 32\(extra.isEmpty ? "" : ", " + extra)}
        """
    }

    func testTheSmallConfigItselfIsAccepted() throws {
        let directory = try TemporaryDirectory()
        for modelType in ["llama", "mistral", "qwen2"] {
            let path = try directory.write(Data(config(modelType).utf8), to: "\(modelType).json")
            XCTAssertEqual(try ModelConfig(huggingFaceConfigAt: URL(fileURLWithPath: path)).headDim, 8)
        }
    }

    /// transformers' __post_init__ turns an explicit null into the derived value, unlike absence
    /// (Qwen2Config's default for an absent num_key_value_heads is 32).
    func testExplicitNullsMeanTheDerivedValues() throws {
        let directory = try TemporaryDirectory()
        let qwen2 = #"""
            {"model_type": "qwen2", "vocab_size": 10, "hidden_size": 64, "num_hidden_layers": 1,
             "num_attention_heads": 4, "num_key_value_heads": null, "head_dim": null, "intermediate_size": 32,
             "rope_parameters": null, "rope_scaling": null, "tie_word_embeddings": true}
            """#
        let decoded = try HuggingFaceConfig(contentsOf: URL(fileURLWithPath: directory.write(Data(qwen2.utf8), to: "q.json")))
        XCTAssertEqual(decoded.modelConfig.kvHeadCount, 4)
        XCTAssertEqual(decoded.modelConfig.headDim, 16)
        XCTAssertEqual(decoded.modelConfig.ropeTheta, 10000)
        XCTAssertTrue(decoded.modelConfig.tiedEmbeddings)
        XCTAssertNil(decoded.dtype)

        let mistral = config("mistral", #""sliding_window": null"#)
        let path = try directory.write(Data(mistral.utf8), to: "m.json")
        XCTAssertNil(try HuggingFaceConfig(contentsOf: URL(fileURLWithPath: path)).slidingWindow)
    }

    func testUnknownArchitecturesAreRejected() throws {
        try assertRejected(#"{"model_type": "gemma"}"#,
                           mentions: ["unsupported architecture gemma (supported: llama, mistral, qwen2, gpt2, gpt_neox, gemma3_text)"])
        try assertRejected(#"{"vocab_size": 3}"#, mentions: ["model_type"])
    }

    /// GPT2Config's own names and defaults (transformers' configuration_gpt2.py): n_inner None
    /// means 4 * n_embd, tied embeddings, gelu_new, layer_norm_epsilon 1e-5, 1024 positions.
    func testGPT2ConfigTakesItsOwnNamesAndDefaults() throws {
        let decoded = try HuggingFaceConfig(data: Data(#"{"model_type": "gpt2", "n_embd": 64, "n_layer": 2, "n_head": 4, "vocab_size": 100}"#.utf8),
                                            source: "gpt2.json")
        let c = decoded.modelConfig
        XCTAssertEqual(c.architecture, .gpt2)
        XCTAssertEqual(c.architecture.normalization, .layer)
        XCTAssertEqual(c.architecture.positions, .learned)
        XCTAssertEqual(c.architecture.mlp, .gelu)
        XCTAssertEqual([c.hiddenSize, c.layerCount, c.headCount, c.kvHeadCount, c.headDim, c.intermediateSize, c.contextLength],
                       [64, 2, 4, 4, 16, 256, 1024])
        XCTAssertEqual(c.normEpsilon, 1e-5)
        XCTAssertTrue(c.tiedEmbeddings && c.attentionQKVBias && c.attentionOutputBias)
        let standardNames = try HuggingFaceConfig(data: Data(#"{"model_type": "gpt2", "hidden_size": 32, "num_hidden_layers": 3, "num_attention_heads": 2, "n_inner": 40, "n_positions": 64, "layer_norm_epsilon": 1e-6, "tie_word_embeddings": false}"#.utf8),
                                                  source: "gpt2.json").modelConfig
        XCTAssertEqual([standardNames.hiddenSize, standardNames.layerCount, standardNames.headCount, standardNames.intermediateSize,
                        standardNames.contextLength, standardNames.vocabularySize], [32, 3, 2, 40, 64, 50257])
        XCTAssertEqual(standardNames.normEpsilon, 1e-6)
        XCTAssertFalse(standardNames.tiedEmbeddings)
    }

    /// The tiny GPT-NeoX fixtures' config.json files (one as transformers 5.x writes it, with
    /// rope_parameters; one as Pythia's hub files have it, with rotary_pct and rotary_emb_base)
    /// against what transformers made of them (the `config` summary of reference/<model>.json).
    func testGPTNeoXConfigsDecodeAsTransformersReadsThem() throws {
        struct Summary: Decodable {
            struct Rope: Decodable {
                let rope_type: String
                let rope_theta, partial_rotary_factor: Double
            }
            struct Config: Decodable {
                let vocab_size, hidden_size, intermediate_size, num_hidden_layers, num_attention_heads: Int
                let head_dim, rotary_ndims, max_position_embeddings: Int
                let rope_parameters: Rope
                let use_parallel_residual, attention_bias, tie_word_embeddings: Bool
                let layer_norm_eps: Float
                let hidden_act: String
            }
            let config: Config
        }
        for name in ["tiny-neox", "tiny-neox-sequential"] {
            let want = try JSONDecoder().decode(Summary.self, from: Data(contentsOf: Fixtures.url("reference/\(name).json"))).config
            let c = try ModelConfig(huggingFaceConfigAt: Fixtures.url("models/\(name)/config.json"))
            XCTAssertEqual(c.architecture, .gptNeoX, name)
            XCTAssertEqual(c.architecture.normalization, .layer, name)
            XCTAssertEqual(c.architecture.positions, .rotary, name)
            XCTAssertEqual(c.architecture.mlp, .geluErf, name)
            XCTAssertEqual(want.hidden_act, "gelu", name)
            XCTAssertEqual([c.vocabularySize, c.hiddenSize, c.intermediateSize, c.layerCount, c.headCount, c.kvHeadCount,
                            c.headDim, c.rotaryDimensions, c.contextLength],
                           [want.vocab_size, want.hidden_size, want.intermediate_size, want.num_hidden_layers,
                            want.num_attention_heads, want.num_attention_heads, want.head_dim, want.rotary_ndims,
                            want.max_position_embeddings], name)
            XCTAssertEqual(want.rope_parameters.rope_type, "default", name)
            XCTAssertEqual(Double(c.ropeTheta), want.rope_parameters.rope_theta, name)
            XCTAssertEqual(c.rotaryDimensions, Int(Double(c.headDim) * want.rope_parameters.partial_rotary_factor), name)
            XCTAssertEqual(c.parallelResidual, want.use_parallel_residual, name)
            XCTAssertEqual(c.attentionQKVBias, want.attention_bias, name)
            XCTAssertEqual(c.attentionOutputBias, want.attention_bias, name)
            XCTAssertEqual(c.tiedEmbeddings, want.tie_word_embeddings, name)
            XCTAssertEqual(c.normEpsilon, want.layer_norm_eps, name)
        }
    }

    /// GPTNeoXConfig's defaults (configuration_gpt_neox.py): the 20B sizes, gelu, rotary_pct 0.25,
    /// base 10000, parallel residual, attention biases, untied, 2048 positions, eps 1e-5.
    func testGPTNeoXConfigDefaults() throws {
        let c = try HuggingFaceConfig(data: Data(#"{"model_type": "gpt_neox"}"#.utf8), source: "neox.json").modelConfig
        XCTAssertEqual([c.vocabularySize, c.hiddenSize, c.layerCount, c.headCount, c.headDim, c.rotaryDimensions,
                        c.intermediateSize, c.contextLength], [50432, 6144, 44, 64, 96, 24, 24576, 2048])
        XCTAssertEqual(c.ropeTheta, 10000)
        XCTAssertEqual(c.normEpsilon, 1e-5)
        XCTAssertTrue(c.parallelResidual && c.attentionQKVBias && c.attentionOutputBias)
        XCTAssertFalse(c.tiedEmbeddings)
        // rope_parameters (5.x) wins over the 4.x keys; an empty one does not count.
        let both = try HuggingFaceConfig(data: Data(#"{"model_type": "gpt_neox", "hidden_size": 64, "num_attention_heads": 4, "rotary_pct": 0.25, "rotary_emb_base": 50, "rope_parameters": {"rope_type": "default", "rope_theta": 7, "partial_rotary_factor": 0.5}}"#.utf8),
                                           source: "neox.json").modelConfig
        XCTAssertEqual([both.rotaryDimensions, Int(both.ropeTheta)], [8, 7])
        let empty = try HuggingFaceConfig(data: Data(#"{"model_type": "gpt_neox", "hidden_size": 64, "num_attention_heads": 4, "rotary_pct": 1, "rotary_emb_base": 50, "rope_scaling": {}}"#.utf8),
                                            source: "neox.json").modelConfig
        XCTAssertEqual([empty.rotaryDimensions, Int(empty.ropeTheta)], [16, 50])
    }

    func testGPTNeoXOptionsThatChangeTheComputationAreRejected() throws {
        let sizes = #""model_type": "gpt_neox", "hidden_size": 64, "num_attention_heads": 4"#
        try assertRejected(#"{\#(sizes), "hidden_act": "gelu_new"}"#, mentions: ["hidden_act gelu_new for gpt_neox"])
        try assertRejected(#"{\#(sizes), "rope_scaling": {"type": "linear", "factor": 2}}"#,
                           mentions: ["rope_scaling type linear"])
        try assertRejected(#"{\#(sizes), "rotary_pct": 0}"#, mentions: ["rotary_pct 0.0 must be in (0, 1]"])
        try assertRejected(#"{\#(sizes), "rotary_pct": 1.5}"#, mentions: ["rotary_pct 1.5"])
        // 16 * 0.3 = 4.8, truncated to 4 as transformers does: accepted; 16 * 0.1 = 1.6 -> 1: odd.
        XCTAssertEqual(try HuggingFaceConfig(data: Data(#"{\#(sizes), "rotary_pct": 0.3}"#.utf8), source: "n.json")
            .modelConfig.rotaryDimensions, 4)
        try assertRejected(#"{\#(sizes), "rotary_pct": 0.1}"#, mentions: ["gives 1 rotary dimensions"])
        try assertRejected(#"{"model_type": "gpt_neox", "hidden_size": 30, "num_attention_heads": 4}"#,
                           mentions: ["hidden_size 30 is not a multiple of num_attention_heads 4"])
        try assertRejected(#"{\#(sizes), "layer_norm_eps": -1}"#, mentions: ["epsilon"])
        try assertRejected(#"{\#(sizes), "use_parallel_residual": "yes"}"#, mentions: ["use_parallel_residual"])
    }

    func testGPT2OptionsThatChangeTheComputationAreRejected() throws {
        try assertRejected(#"{"model_type": "gpt2", "activation_function": "relu"}"#, mentions: ["activation_function relu"])
        try assertRejected(#"{"model_type": "gpt2", "scale_attn_by_inverse_layer_idx": true}"#, mentions: ["scale_attn_by_inverse_layer_idx"])
        try assertRejected(#"{"model_type": "gpt2", "scale_attn_weights": false}"#, mentions: ["scale_attn_weights"])
        try assertRejected(#"{"model_type": "gpt2", "n_embd": 30, "n_head": 4}"#, mentions: ["not a multiple of n_head"])
        try assertRejected(#"{"model_type": "gpt2", "layer_norm_epsilon": 0}"#, mentions: ["epsilon"])
    }

    func testUnsupportedRopeScalingTypesAreRejected() throws {
        for type in ["linear", "dynamic", "yarn", "longrope"] {
            try assertRejected(config("llama", #""rope_scaling": {"rope_type": "\#(type)", "factor": 2.0}"#),
                               mentions: ["unsupported rope_scaling type \(type)"])
            try assertRejected(config("qwen2", #""rope_parameters": {"rope_type": "\#(type)", "factor": 2.0}"#),
                               mentions: ["unsupported rope_scaling type \(type)"])
        }
        try assertRejected(config("mistral", #""rope_scaling": {"type": "linear", "factor": 2.0}"#),
                           mentions: ["unsupported rope_scaling type linear"])
        try assertRejected(config("llama", #""rope_scaling": {"rope_type": "llama3", "factor": 8.0}"#),
                           mentions: ["low_freq_factor"])
    }

    func testDefaultRopeTypeAndEmptyScalingMeanPlainRope() throws {
        let directory = try TemporaryDirectory()
        for extra in [#""rope_scaling": null, "rope_theta": 5.0"#, #""rope_scaling": {}, "rope_theta": 5.0"#,
                      #""rope_parameters": {"rope_type": "default", "rope_theta": 5}"#,
                      #""rope_scaling": {"type": "default"}, "rope_theta": 5"#] {
            let path = try directory.write(Data(config("llama", extra).utf8), to: "config.json")
            let decoded = try ModelConfig(huggingFaceConfigAt: URL(fileURLWithPath: path))
            XCTAssertNil(decoded.ropeScaling, extra)
            XCTAssertEqual(decoded.ropeTheta, 5, extra)
        }
    }

    func testUnsupportedFeaturesAreRejected() throws {
        try assertRejected(config("llama", #""mlp_bias": true"#), mentions: ["mlp_bias"])
        try assertRejected(config("qwen2", #""use_sliding_window": true, "sliding_window": 4096"#),
                           mentions: ["use_sliding_window"])
        try assertRejected(config("qwen2", #""layer_types": ["full_attention", "sliding_attention"]"#),
                           mentions: ["sliding_attention"])
        try assertRejected(config("llama", #""hidden_act": "gelu""#), mentions: ["hidden_act gelu"])
    }

    func testMalformedAndInconsistentConfigsAreRejected() throws {
        try assertRejected("{", mentions: ["not a valid config.json"])
        try assertRejected(#"{"model_type": "llama", "vocab_size": 10}"#, mentions: ["hidden_size"])
        try assertRejected(config("llama", #""head_dim": "eight""#), mentions: ["head_dim"])
        try assertRejected(config("llama", #""max_position_embeddings": 1.5"#), mentions: ["not a valid config.json"])
        try assertRejected(config("llama", #""rope_theta": "big""#), mentions: ["rope_theta"])
        try assertRejected(
            #"{"model_type": "llama", "vocab_size": 10, "hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 3, "num_key_value_heads": 2, "head_dim": 4, "intermediate_size": 32}"#,
            mentions: ["not a multiple"])
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("absent-\(UUID()).json")
        assertInputError(try ModelConfig(huggingFaceConfigAt: missing), file: missing.path, mentions: ["cannot read"])
    }
}
