import Capture
import Shared
import TestSupport
import XCTest

/// Properties of the forward pass that hold for any weights, checked on a random model.
final class EngineInvariantTests: XCTestCase {
    /// Copies every hooked activation out of the forward pass.
    private func record(_ points: [HookPoint], into hooks: Hooks) -> () -> [HookPoint: [Float]] {
        final class Store { var values: [HookPoint: [Float]] = [:] }
        let store = Store()
        for point in points { hooks.add(point) { store.values[point] = Array($0.values) } }
        return { store.values }
    }

    func testHeadOutputsSumToAttentionOutput() throws {
        let model = try SyntheticModel.make()
        let c = model.config, tokens = SyntheticModel.tokens(9, seed: 1)
        let hooks = Hooks()
        let captured = record((0..<c.layerCount).flatMap { [HookPoint.z($0), .attnOut($0)] }, into: hooks)
        _ = try model.forward(tokens: tokens, hooks: hooks)
        let d = c.hiddenSize, e = c.headDim, width = c.attentionWidth
        for l in 0..<c.layerCount {
            let z = captured()[.z(l)]!, attnOut = captured()[.attnOut(l)]!
            let wO = model.weights.layers[l].output, bias = model.weights.layers[l].outputBias!
            var sum = [Float](repeating: 0, count: tokens.count * d)
            for t in 0..<tokens.count {
                for i in 0..<d { sum[t * d + i] = bias[i] }
                for h in 0..<c.headCount {
                    for i in 0..<d {
                        var a: Float = 0   // a_h = z_h · W_O[:, h*E:(h+1)*E]^T
                        for j in 0..<e { a += z[t * width + h * e + j] * wO[i * width + h * e + j] }
                        sum[t * d + i] += a
                    }
                }
            }
            let result = compare(sum, attnOut, relativeFloor: 1)
            XCTAssertLessThan(result.maxAbsoluteDifference, 1e-4, "layer \(l): \(result)")
        }
    }

    func testFinalResidualIsEmbeddingPlusEveryBlockOutput() throws {
        let model = try SyntheticModel.make()
        let c = model.config, tokens = SyntheticModel.tokens(7, seed: 2)
        let hooks = Hooks()
        let points = (0..<c.layerCount).flatMap { [HookPoint.attnOut($0), .mlpOut($0)] } + [.residFinal, .residPre(0)]
        let captured = record(points, into: hooks)
        _ = try model.forward(tokens: tokens, hooks: hooks)
        let d = c.hiddenSize
        var sum = tokens.flatMap { token in (0..<d).map { model.weights.embedding[Int(token) * d + $0] } }
        XCTAssertEqual(sum, captured()[.residPre(0)]!)
        for l in 0..<c.layerCount {
            for (i, v) in captured()[.attnOut(l)]!.enumerated() { sum[i] += v }
            for (i, v) in captured()[.mlpOut(l)]!.enumerated() { sum[i] += v }
        }
        let result = compare(sum, captured()[.residFinal]!, relativeFloor: 1)
        XCTAssertLessThan(result.maxAbsoluteDifference, 1e-4, "\(result)")
    }

    func testLogitsAreTheUnembeddedFinalNormWithTheStoredScale() throws {
        let model = try SyntheticModel.make()
        let c = model.config, tokens = SyntheticModel.tokens(5, seed: 3)
        let hooks = Hooks()
        let captured = record([.residFinal, .finalNormScale], into: hooks)
        let output = try model.forward(tokens: tokens, logits: .all, hooks: hooks)
        let d = c.hiddenSize, x = captured()[.residFinal]!, s = captured()[.finalNormScale]!
        var expected = [Float]()
        for t in 0..<tokens.count {
            for v in 0..<c.vocabularySize {
                var logit: Float = 0
                for i in 0..<d {
                    logit += model.weights.finalNorm[i] * (x[t * d + i] * s[t]) * model.weights.unembedding[v * d + i]
                }
                expected.append(logit)
            }
        }
        let result = compare(output.logits, expected, relativeFloor: 1)
        XCTAssertLessThan(result.maxAbsoluteDifference, 1e-4, "\(result)")
    }

    func testPackedBatchGivesEachPromptItsOwnNumbers() throws {
        let model = try SyntheticModel.make()
        let prompts = [SyntheticModel.tokens(11, seed: 4), SyntheticModel.tokens(3, seed: 5),
                       SyntheticModel.tokens(150, seed: 6)]
        let batched = try model.forward(prompts.map { SequenceInput(tokens: $0) }, logits: .all)
        for (b, prompt) in prompts.enumerated() {
            let alone = try model.forward(tokens: prompt, logits: .all)
            let span = batched.layout.sequences[b], v = model.config.vocabularySize
            let slice = Array(batched.logits[(span.rowStart * v)..<((span.rowStart + span.tokenCount) * v)])
            let result = compare(slice, alone.logits, relativeFloor: 1)
            XCTAssertLessThan(result.maxAbsoluteDifference, 1e-5, "prompt \(b): \(result)")
        }
    }

    /// Without hooks, the last layer after attention runs on the rows whose logits are asked for
    /// alone (docs/methods.md §22.6); an empty Hooks turns that off. On the packed kernel a row's
    /// products do not depend on the other rows, so the two agree bit for bit.
    func testLastLayerOnTheAskedRowsAloneGivesTheSameLogits() throws {
        let model = try SyntheticModel.make()
        let prompts = [SyntheticModel.tokens(11, seed: 21), SyntheticModel.tokens(1, seed: 22),
                       SyntheticModel.tokens(150, seed: 23)]
        let inputs = { (caches: [KVCache]?) in
            prompts.enumerated().map { b, prompt in SequenceInput(tokens: prompt, cache: caches?[b]) }
        }
        let pruned = try model.forward(inputs(nil))
        let whole = try model.forward(inputs(nil), hooks: Hooks())
        XCTAssertEqual(pruned.layout, whole.layout)
        if model.packsWeights {
            XCTAssertEqual(pruned.logits, whole.logits)
        } else {
            XCTAssertLessThan(compare(pruned.logits, whole.logits, relativeFloor: 1).maxAbsoluteDifference, 1e-5)
        }
        XCTAssertEqual(try model.forward(inputs(nil), logits: .none).logits, [])

        // The caches still get every position of the last layer: decoding on from them matches.
        let caches = prompts.map { _ in KVCache(config: model.config, reservedTokens: 4) }
        _ = try model.forward(inputs(caches), logits: .none)
        let next: [Int32] = [3, 4, 5]
        let stepped = try model.forward(zip(next, caches).map { SequenceInput(tokens: [$0], cache: $1) })
        let full = try model.forward(zip(prompts, next).map { SequenceInput(tokens: $0 + [$1]) }, hooks: Hooks())
        let result = compare(stepped.logits, full.logits, relativeFloor: 1)
        XCTAssertLessThan(result.maxAbsoluteDifference, 1e-5, "\(result)")
    }

    func testCachedDecodingMatchesTheFullForward() throws {
        let model = try SyntheticModel.make()
        let tokens = SyntheticModel.tokens(140, seed: 8)
        let full = try model.forward(tokens: tokens, logits: .all)
        let cache = KVCache(config: model.config, reservedTokens: 4)
        _ = try model.forward([SequenceInput(tokens: Array(tokens[0..<130]), cache: cache)])
        let v = model.config.vocabularySize
        for t in 130..<tokens.count {
            let step = try model.forward([SequenceInput(tokens: [tokens[t]], cache: cache)])
            let result = compare(Array(step.lastLogits(of: 0)), Array(full.logits[(t * v)..<((t + 1) * v)]),
                                 relativeFloor: 1)
            XCTAssertLessThan(result.maxAbsoluteDifference, 1e-5, "position \(t): \(result)")
        }
        XCTAssertEqual(cache.length, tokens.count)
    }

    func testGreedyGenerationWithCacheMatchesRepeatedFullForwards() throws {
        let model = try SyntheticModel.make()
        let prompts = [SyntheticModel.tokens(6, seed: 9), SyntheticModel.tokens(13, seed: 10)]
        let generated = try model.generateGreedy(prompts: prompts, maxNewTokens: 8)
        for (prompt, new) in zip(prompts, generated) {
            var sequence = prompt
            for _ in 0..<8 {
                let logits = try model.forward(tokens: sequence).lastLogits(of: 0)
                sequence.append(Int32(logits.firstIndex(of: logits.max()!)! - logits.startIndex))
            }
            XCTAssertEqual(new, Array(sequence[prompt.count...]))
        }
    }

    func testAttentionPatternsAreCausalDistributions() throws {
        let model = try SyntheticModel.make()
        let tokens = SyntheticModel.tokens(10, seed: 11), c = model.config
        let hooks = Hooks()
        var shapes: [[Int]] = []
        hooks.add(.attnPattern(1)) { tensor in
            shapes.append(tensor.shape)
            let t = tensor.shape[1], s = tensor.shape[2]
            for h in 0..<tensor.shape[0] {
                for q in 0..<t {
                    let row = (0..<s).map { tensor.values[(h * t + q) * s + $0] }
                    XCTAssertEqual(row.reduce(0, +), 1, accuracy: 1e-5)
                    XCTAssertTrue(row[(q + 1)...].allSatisfy { $0 == 0 }, "head \(h) query \(q) sees the future")
                }
            }
        }
        _ = try model.forward(tokens: tokens, hooks: hooks)
        XCTAssertEqual(shapes, [[c.headCount, 10, 10]])
    }

    func testLastQueryRowsEqualTheLastRowsOfTheFullPatterns() throws {
        let model = try SyntheticModel.make()
        let prompts = [SyntheticModel.tokens(9, seed: 13), SyntheticModel.tokens(140, seed: 14)]
        let hooks = Hooks()
        var full: [Int: [Float]] = [:], last: [Int: [Float]] = [:]
        hooks.add(.attnPattern(2)) { tensor in
            let t = tensor.shape[1], s = tensor.shape[2]
            full[tensor.sequence!] = (0..<tensor.shape[0]).flatMap { h in (0..<s).map { tensor.values[(h * t + t - 1) * s + $0] } }
        }
        hooks.add(.attnLastQuery(2)) { tensor in last[tensor.sequence!] = Array(tensor.values) }
        _ = try model.forward(prompts.map { SequenceInput(tokens: $0) }, hooks: hooks)
        XCTAssertEqual(last.count, 2)
        XCTAssertEqual(last, full)
    }

    func testZeroingOneHeadRemovesExactlyItsContribution() throws {
        let model = try SyntheticModel.make()
        let tokens = SyntheticModel.tokens(6, seed: 12), c = model.config
        let layer = 1, head = 2, e = c.headDim, d = c.hiddenSize, width = c.attentionWidth
        let clean = Hooks()
        let captured = record([.z(layer), .attnOut(layer)], into: clean)
        _ = try model.forward(tokens: tokens, hooks: clean)

        let ablated = Hooks()
        ablated.add(.z(layer)) { tensor in
            for t in 0..<tokens.count { for j in 0..<e { tensor.values[t * width + head * e + j] = 0 } }
        }
        var ablatedOut: [Float] = []
        ablated.add(.attnOut(layer)) { ablatedOut = Array($0.values) }
        _ = try model.forward(tokens: tokens, hooks: ablated)

        let z = captured()[.z(layer)]!, wO = model.weights.layers[layer].output
        var expected = captured()[.attnOut(layer)]!
        for t in 0..<tokens.count {
            for i in 0..<d {
                var a: Float = 0
                for j in 0..<e { a += z[t * width + head * e + j] * wO[i * width + head * e + j] }
                expected[t * d + i] -= a
            }
        }
        let result = compare(ablatedOut, expected, relativeFloor: 1)
        XCTAssertLessThan(result.maxAbsoluteDifference, 1e-4, "\(result)")
    }

    func testOutOfVocabularyTokensAreAnInputError() throws {
        let model = try SyntheticModel.make()
        XCTAssertThrowsError(try model.forward(tokens: [1, 99])) { error in
            XCTAssertTrue(error is InputError, "\(error)")
        }
    }
}
