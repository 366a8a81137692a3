import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// The engine paths interventions take - a read-only prefix shared by many single-token
/// sequences, sequences entering the stack mid-way, z patched by hooks - against references
/// computed another way: the whole prompt through the plain forward pass, with a hand-written
/// hook or with the ablated heads' columns of o_proj zeroed in the weights (no hook at all).
final class LastTokenInterventionTests: XCTestCase {
    private func tinyModel() throws -> LoadedModel {
        try ModelLoader.load(path: Fixtures.url("models/tiny-llama3").path)
    }

    private func prompts(_ model: LoadedModel) -> [[Int32]] {
        ["Q: hot\nA: cold\n\nQ: big\nA: small\n\nQ: fast\nA:", "Sentiment: great film", "x"].map {
            model.tokenizer.encode($0, addBOS: model.tokenizer.addsBOSByDefault)
        }
    }

    /// A full forward pass of `tokens` whose z at layer `layer`, head `head` is replaced by
    /// `values` (nil: zero) in the last row, written here without Hooks.patching.
    private func manuallyPatched(_ model: LoadedModel, _ tokens: [Int32], layer: Int, head: Int, values: [Float]?) throws -> [Float] {
        let hooks = Hooks()
        let h = model.config.headCount, e = model.config.headDim
        hooks.add(.z(layer)) { tensor in
            let row = tensor.shape[0] - 1
            for i in 0..<e { tensor.values[(row * h + head) * e + i] = values?[i] ?? 0 }
        }
        return Array(try model.transformer.forward(tokens: tokens, logits: .last, hooks: hooks).lastLogits(of: 0))
    }

    func testSharedPrefixAndMidStackEntryGiveTheFullForwardLogits() throws {
        let model = try tinyModel()
        let config = model.config, d = config.hiddenSize
        for tokens in prompts(model) where tokens.count > 1 {
            let full = Array(try model.transformer.forward(tokens: tokens).lastLogits(of: 0))
            var residPre: [[Float]] = Array(repeating: [], count: config.layerCount)
            let capture = Hooks()
            for l in 0..<config.layerCount {
                capture.add(.residPre(l)) { tensor in residPre[l] = Array(tensor.values[(tensor.shape[0] - 1) * d..<tensor.shape[0] * d]) }
            }
            _ = try model.transformer.forward(tokens: tokens, hooks: capture)
            let prefix = KVCache(config: config)
            _ = try model.transformer.forward([SequenceInput(tokens: Array(tokens.dropLast()), cache: prefix)], logits: .none)
            // Every entry layer at once, as one packed batch over one shared prefix.
            let sequences = (0..<config.layerCount).map {
                SequenceInput(tokens: [tokens.last!], prefix: prefix, entry: $0 == 0 ? nil : StackEntry(layer: $0, residual: residPre[$0]))
            }
            let output = try model.transformer.forward(sequences, logits: .last)
            XCTAssertEqual(prefix.length, tokens.count - 1, "the shared prefix must stay read-only")
            for l in 0..<config.layerCount {
                let comparison = compare(Array(output.lastLogits(of: l)), full)
                XCTAssertLessThan(comparison.maxAbsoluteDifference, 1e-4, "entry at layer \(l): \(comparison)")
            }
        }
    }

    func testEntriesOutOfLayerOrderAreRefused() throws {
        let model = try tinyModel()
        let d = model.config.hiddenSize
        let sequences = [SequenceInput(tokens: [5], entry: StackEntry(layer: 2, residual: [Float](repeating: 0, count: d))),
                         SequenceInput(tokens: [5], entry: StackEntry(layer: 1, residual: [Float](repeating: 0, count: d)))]
        XCTAssertThrowsError(try model.transformer.forward(sequences)) { error in
            XCTAssertTrue("\(error)".contains("order sequences by entry layer"), "\(error)")
        }
    }

    func testAnswerPositionPatchesThroughTheSharedPrefixEqualAFullForwardWithAHandWrittenHook() throws {
        let model = try tinyModel()
        let config = model.config, e = config.headDim
        var rng = SplitMix64(seed: 7)
        let all = prompts(model)
        // Every head, patched with a random vector (as the CIE patches the clean mean) or zeroed.
        var variants: [[[HeadPatch]]] = []
        for _ in all {
            variants.append((0..<config.layerCount).flatMap { l in
                (0..<config.headCount).map { h in
                    [HeadPatch(layer: l, head: h, values: (l + h) % 3 == 0 ? nil : (0..<e).map { _ in rng.nextSignedUnit() })]
                }
            } + [[]])
        }
        var got: [[Int: [Float]]] = Array(repeating: [:], count: all.count)
        try LastTokenInterventions(transformer: model.transformer).run(prompts: all, variants: variants) { b, v, logits in
            got[b][v] = Array(logits)
        }
        var worst: Float = 0
        for (b, tokens) in all.enumerated() {
            let plain = Array(try model.transformer.forward(tokens: tokens).lastLogits(of: 0))
            XCTAssertLessThan(compare(got[b][-1]!, plain).maxAbsoluteDifference, 1e-4)
            XCTAssertLessThan(compare(got[b][variants[b].count - 1]!, plain).maxAbsoluteDifference, 1e-4, "a variant without patches is the prompt unchanged")
            for (v, patches) in variants[b].enumerated() where !patches.isEmpty {
                let patch = patches[0]
                let expected = try manuallyPatched(model, tokens, layer: patch.layer, head: patch.head, values: patch.values)
                let comparison = compare(got[b][v]!, expected)
                worst = max(worst, comparison.maxAbsoluteDifference)
                XCTAssertLessThan(comparison.maxAbsoluteDifference, 1e-4, "prompt \(b) L\(patch.layer)H\(patch.head): \(comparison)")
            }
        }
        print("answer-position patches, shared prefix vs full forward: max |logit diff| \(worst)")
    }

    func testZeroAblationAtEveryPositionEqualsTheModelWithThoseOutputColumnsZeroed() throws {
        let model = try tinyModel()
        let reference = try tinyModel()   // its own weights, changed below
        let config = model.config, e = config.headDim, width = config.headCount * e
        let heads = [HeadID(layer: 0, head: 1), HeadID(layer: 1, head: 3), HeadID(layer: 2, head: 0)]
        // o_proj.weight is [D, H * E]: head h's columns are h*E ..< (h+1)*E.
        for head in heads {
            let output = reference.transformer.weights.layers[head.layer].output.pointer
            for row in 0..<config.hiddenSize { (output + row * width + head.head * e).update(repeating: 0, count: e) }
        }
        let all = prompts(model)
        let hooks = Hooks.patching(all.map { _ in heads.map { HeadPatch(layer: $0.layer, head: $0.head, values: nil) } },
                                   headCount: config.headCount, headDim: e, allPositions: true)
        let ablated = try model.transformer.forward(all.map { SequenceInput(tokens: $0) }, logits: .last, hooks: hooks)
        // A Transformer packs its weights when it is made: the changed weights need a new one.
        let changed = try Transformer(config: config, weights: reference.transformer.weights, source: "changed")
        let expected = try changed.forward(all.map { SequenceInput(tokens: $0) }, logits: .last)
        let unchanged = try model.transformer.forward(all.map { SequenceInput(tokens: $0) }, logits: .last)
        for b in all.indices {
            let comparison = compare(Array(ablated.lastLogits(of: b)), Array(expected.lastLogits(of: b)))
            XCTAssertLessThan(comparison.maxAbsoluteDifference, 1e-5, "prompt \(b): \(comparison)")
            XCTAssertGreaterThan(compare(Array(unchanged.lastLogits(of: b)), Array(expected.lastLogits(of: b))).maxAbsoluteDifference, 1e-3,
                                 "the ablation must change the logits for the comparison to mean anything")
        }
    }

    /// The CIE of a head through the KV-cache shortcut equals the full recomputation (the whole
    /// prompt, patched by a hand-written hook, minus the whole prompt unpatched), to 1e-5.
    func testCIEThroughThePrefixCacheEqualsTheFullRecomputation() throws {
        var models = [try tinyModel()]
        let smol = Fixtures.repositoryRoot.appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf").path
        if FileManager.default.fileExists(atPath: smol) { models.append(try ModelLoader.load(path: smol)) }
        for model in models {
            let config = model.config, e = config.headDim
            let tokens = model.tokenizer.encode("Q: hot\nA: small\n\nQ: big\nA: cold\n\nQ: up\nA: in\n\nQ: fast\nA:", addBOS: model.tokenizer.addsBOSByDefault)
            let gold = model.tokenizer.encode(" slow", addBOS: false)[0]
            var rng = SplitMix64(seed: 11)
            // A mean-like patch: a random z of the head's typical scale.
            let mean = (0..<(config.layerCount * config.headCount * e)).map { _ in rng.nextSignedUnit() / 2 }
            let heads = (0..<(config.layerCount * config.headCount)).filter { config.layerCount < 8 || $0 % 13 == 0 }
            let variants = heads.map { j -> [HeadPatch] in
                [HeadPatch(layer: j / config.headCount, head: j % config.headCount, values: Array(mean[(j * e)..<((j + 1) * e)]))]
            }
            var fast: [Int: Double] = [:]
            try LastTokenInterventions(transformer: model.transformer).run(prompts: [tokens], variants: [variants]) { _, v, logits in
                fast[v] = AnswerMetrics(logits: logits, gold: gold, labels: []).goldProbability
            }
            let corrupted = AnswerMetrics(logits: try model.transformer.forward(tokens: tokens).lastLogits(of: 0), gold: gold, labels: []).goldProbability
            var worst = 0.0
            for (v, patch) in variants.enumerated() {
                let patched = AnswerMetrics(logits: try manuallyPatched(model, tokens, layer: patch[0].layer, head: patch[0].head,
                                                                        values: patch[0].values)[...], gold: gold, labels: []).goldProbability
                let difference = abs((fast[v]! - fast[-1]!) - (patched - corrupted))
                worst = max(worst, difference)
                XCTAssertLessThan(difference, 1e-5, "\(model.path) L\(patch[0].layer)H\(patch[0].head)")
            }
            print("\(model.path): CIE via the prefix cache vs full recomputation, \(variants.count) heads: max |diff| \(worst)")
        }
    }
}
