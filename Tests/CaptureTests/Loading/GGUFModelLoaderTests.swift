import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// A tiny Llama model written as a GGUF file the way llama.cpp's converter writes one (q and k
/// rows permuted for adjacent-pair RoPE), loaded back through ModelLoader.
final class GGUFModelLoaderTests: XCTestCase {
    private var directory: TemporaryGGUFDirectory!
    private var config = ModelConfig(
        architecture: .llama, vocabularySize: 6, hiddenSize: 8, layerCount: 2, headCount: 4, kvHeadCount: 2,
        headDim: 4, intermediateSize: 12, normEpsilon: 1e-5, ropeTheta: 10000, ropeScaling: nil,
        contextLength: 64, attentionQKVBias: false, attentionOutputBias: false, tiedEmbeddings: false)

    /// Qwen2 as llama.cpp writes it: q/k/v biases, and q/k rows NOT permuted (NEOX RoPE).
    private func useQwen2() {
        config.architecture = .qwen2
        config.attentionQKVBias = true
    }

    override func setUpWithError() throws {
        directory = try TemporaryGGUFDirectory()
    }

    /// Weights in transformers' layout, by GGUF tensor name; shapes row-major [out, in].
    private func weights() -> [(name: String, shape: [Int], values: [Float])] {
        var random = SplitMix64(seed: 99)
        func tensor(_ name: String, _ shape: [Int], offset: Float = 0) -> (String, [Int], [Float]) {
            (name, shape, (0..<shape.reduce(1, *)).map { _ in offset + 0.5 * random.nextSignedUnit() })
        }
        let c = config, d = c.hiddenSize, e = c.headDim
        var list = [tensor("token_embd.weight", [c.vocabularySize, d]), tensor("output_norm.weight", [d], offset: 1),
                    tensor("output.weight", [c.vocabularySize, d])]
        for l in 0..<c.layerCount {
            let p = "blk.\(l)."
            if c.attentionQKVBias {
                list += [tensor(p + "attn_q.bias", [c.headCount * e]), tensor(p + "attn_k.bias", [c.kvHeadCount * e]),
                         tensor(p + "attn_v.bias", [c.kvHeadCount * e])]
            }
            list += [tensor(p + "attn_norm.weight", [d], offset: 1), tensor(p + "attn_q.weight", [c.headCount * e, d]),
                     tensor(p + "attn_k.weight", [c.kvHeadCount * e, d]), tensor(p + "attn_v.weight", [c.kvHeadCount * e, d]),
                     tensor(p + "attn_output.weight", [d, c.headCount * e]), tensor(p + "ffn_norm.weight", [d], offset: 1),
                     tensor(p + "ffn_gate.weight", [c.intermediateSize, d]), tensor(p + "ffn_up.weight", [c.intermediateSize, d]),
                     tensor(p + "ffn_down.weight", [d, c.intermediateSize])]
        }
        return list
    }

    /// llama.cpp's `permute`: rows of each head reshaped (2, E/2) -> (E/2, 2).
    private func permuted(_ rows: [Float], heads: Int, width: Int) -> [Float] {
        let e = config.headDim, half = e / 2
        var out = rows
        for h in 0..<heads { for s in 0..<2 { for j in 0..<half { for i in 0..<width {
            out[(h * e + 2 * j + s) * width + i] = rows[(h * e + s * half + j) * width + i]
        } } } }
        return out
    }

    private func buildGGUF(skipping skipped: String? = nil, extra: String? = nil, reshaping reshaped: String? = nil,
                           withTokenizer: Bool = true) throws -> String {
        var builder = GGUFBuilder()
        let c = config
        let a = c.architecture.rawValue
        builder.add("general.architecture", .string(a))
        builder.add("\(a).embedding_length", .uint32(UInt32(c.hiddenSize)))
        builder.add("\(a).block_count", .uint32(UInt32(c.layerCount)))
        builder.add("\(a).attention.head_count", .uint32(UInt32(c.headCount)))
        builder.add("\(a).attention.head_count_kv", .uint32(UInt32(c.kvHeadCount)))
        // head_dim differs from d_model / heads, so the file must say it, as llama.cpp's converter does.
        builder.add("\(a).attention.key_length", .uint32(UInt32(c.headDim)))
        builder.add("\(a).attention.value_length", .uint32(UInt32(c.headDim)))
        builder.add("\(a).feed_forward_length", .uint32(UInt32(c.intermediateSize)))
        builder.add("\(a).attention.layer_norm_rms_epsilon", .float32(c.normEpsilon))
        builder.add("\(a).rope.freq_base", .float32(c.ropeTheta))
        builder.add("\(a).context_length", .uint32(UInt32(c.contextLength)))
        if withTokenizer {
            builder.add("tokenizer.ggml.model", .string("gpt2"))
            builder.add("tokenizer.ggml.pre", .string("gpt2"))
            builder.add("tokenizer.ggml.tokens", .array(elementType: .string, ["a", "b", "c", "d", "<s>", "</s>"].map { .string($0) }))
            builder.add("tokenizer.ggml.token_type", .array(elementType: .int32, [1, 1, 1, 1, 3, 3].map { .int32($0) }))
            builder.add("tokenizer.ggml.merges", .array(elementType: .string, []))
        }
        for (name, shape, values) in weights() where name != skipped {
            var stored = values
            if c.architecture == .llama {
                if name.hasSuffix("attn_q.weight") { stored = permuted(values, heads: c.headCount, width: c.hiddenSize) }
                if name.hasSuffix("attn_k.weight") { stored = permuted(values, heads: c.kvHeadCount, width: c.hiddenSize) }
            }
            var dimensions = shape.reversed().map(UInt64.init)     // ggml order: ne[0] = columns
            if name == reshaped { dimensions = [UInt64(stored.count)] }
            builder.addTensor(name, dimensions, .f32, data: stored.flatMap { GGUFBuilder.u32($0.bitPattern) })
        }
        if let extra { builder.addFloats(extra, [1, 2]) }
        return try directory.write(builder.build(), name: "tiny.gguf")
    }

    func testPermutedGGUFGivesTheSameLogitsAsTheWeightsInTransformersOrder() throws {
        try assertGGUFMatchesDirectWeights()
    }

    func testQwen2GGUFWithBiasesAndUnpermutedRowsGivesTheSameLogits() throws {
        useQwen2()
        try assertGGUFMatchesDirectWeights()
    }

    private func assertGGUFMatchesDirectWeights() throws {
        let loaded = try ModelLoader.load(path: try buildGGUF())
        XCTAssertEqual(loaded.config, config)
        XCTAssertEqual(loaded.format, .gguf)

        let byName = Dictionary(uniqueKeysWithValues: weights().map { ($0.name, FloatBuffer($0.values)) })
        let layers = (0..<config.layerCount).map { l -> LayerWeights in
            let p = "blk.\(l)."
            return LayerWeights(
                attentionNorm: byName[p + "attn_norm.weight"]!,
                qkv: FloatBuffer(byName[p + "attn_q.weight"]!.array + byName[p + "attn_k.weight"]!.array + byName[p + "attn_v.weight"]!.array),
                qkvBias: config.attentionQKVBias
                    ? FloatBuffer(byName[p + "attn_q.bias"]!.array + byName[p + "attn_k.bias"]!.array + byName[p + "attn_v.bias"]!.array)
                    : nil,
                output: byName[p + "attn_output.weight"]!, outputBias: nil,
                mlpNorm: byName[p + "ffn_norm.weight"]!,
                gateUp: FloatBuffer(byName[p + "ffn_gate.weight"]!.array + byName[p + "ffn_up.weight"]!.array),
                down: byName[p + "ffn_down.weight"]!)
        }
        let direct = try Transformer(
            config: config,
            weights: ModelWeights(embedding: byName["token_embd.weight"]!, layers: layers, finalNorm: byName["output_norm.weight"]!,
                                  unembedding: byName["output.weight"]!, ropeFrequencyFactors: nil),
            source: "direct")
        let tokens: [Int32] = [0, 3, 1, 2, 2, 5, 4, 1]
        let expected = try direct.forward(tokens: tokens, logits: .all).logits
        let actual = try loaded.transformer.forward(tokens: tokens, logits: .all).logits
        let result = compare(actual, expected)
        XCTAssertEqual(result.maxAbsoluteDifference, 0, "\(result)")
    }

    func testMissingTensorIsNamed() throws {
        let path = try buildGGUF(skipping: "blk.1.ffn_up.weight")
        XCTAssertThrowsError(try ModelLoader.load(path: path)) { error in
            XCTAssertEqual(error as? InputError, InputError(file: path, "missing tensor blk.1.ffn_up.weight"))
        }
    }

    func testWrongShapeNamesTheTensorAndBothShapes() throws {
        let path = try buildGGUF(reshaping: "blk.0.attn_v.weight")
        XCTAssertThrowsError(try ModelLoader.load(path: path)) { error in
            XCTAssertEqual(error as? InputError, InputError(file: path, "tensor blk.0.attn_v.weight has shape [64], expected [8, 8]"))
        }
    }

    func testUnusedTensorsAreRejected() throws {
        let path = try buildGGUF(extra: "blk.0.attn_rot_embd")
        XCTAssertThrowsError(try ModelLoader.load(path: path)) { error in
            XCTAssertEqual(error as? InputError, InputError(file: path, "1 tensors the llama architecture does not use: blk.0.attn_rot_embd"))
        }
    }

    func testMissingTokenizerIsReported() throws {
        let path = try buildGGUF(withTokenizer: false)
        XCTAssertThrowsError(try ModelLoader.load(path: path)) { error in
            XCTAssertEqual((error as? InputError)?.file, path)
            XCTAssertTrue("\(error)".contains("tokenizer"), "\(error)")
        }
    }

    func testZeroContextLengthIsRefusedAtLoadNamingTheFile() throws {
        config.contextLength = 0
        let path = try buildGGUF()
        XCTAssertThrowsError(try ModelLoader.load(path: path)) { error in
            XCTAssertEqual(error as? InputError, InputError(file: path, "context length 0 must be positive"))
        }
    }
}
