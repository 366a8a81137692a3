import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// Sliding-window attention (a query at position t sees the keys in (t - window, t]) on the
/// synthetic model with local and global layers mixed, as Gemma 3 mixes them: the forward pass
/// against the naive Double model, every KV-cache path against the cache-free forward, and the
/// reverse pass against central differences. The Mistral fixture (ReferenceComparisonTests,
/// GradientReferenceTests) checks the same against transformers.
final class SlidingWindowTests: XCTestCase {
    /// Layers 0 and 2 local (window 5), layer 1 global.
    private func windowedModel(window: Int = 5, layers: [Bool]? = [true, false, true]) throws -> Transformer {
        let plain = try SyntheticModel.make()
        var config = plain.config
        config.slidingWindow = window
        config.slidingWindowLayers = layers
        return try Transformer(config: config, weights: plain.weights, source: "synthetic")
    }

    func testForwardMatchesTheDoubleModelAndPatternsStayInTheWindow() throws {
        let model = try windowedModel()
        // 150 tokens: two query blocks, the second starting far past the window.
        let tokens = SyntheticModel.tokens(150, seed: 21)
        let hooks = Hooks()
        var patterns: [Int: [Float]] = [:]
        for l in 0..<3 { hooks.add(.attnPattern(l)) { patterns[l] = Array($0.values) } }
        let logits = try model.forward(tokens: tokens, hooks: hooks).lastLogits(of: 0).map(Double.init)
        let expected = DoubleReferenceModel(model).lastLogits(tokens)
        XCTAssertLessThan(zip(logits, expected).map { abs($0 - $1) }.max()!, 1e-4)

        let t = tokens.count
        for l in 0..<3 {
            let pattern = try XCTUnwrap(patterns[l])
            for h in 0..<model.config.headCount {
                for q in [0, 3, 4, 5, 127, 128, 149] {
                    let row = Array(pattern[((h * t + q) * t)..<((h * t + q + 1) * t)])
                    let lower = l == 1 ? 0 : max(0, q - 4)
                    XCTAssertEqual(row.reduce(0, +), 1, accuracy: 1e-5, "layer \(l) head \(h) query \(q)")
                    XCTAssertTrue(row[..<lower].allSatisfy { $0 == 0 }, "layer \(l) head \(h) query \(q) sees keys before its window")
                    XCTAssertTrue(row[(q + 1)...].allSatisfy { $0 == 0 }, "layer \(l) head \(h) query \(q) sees the future")
                    XCTAssertTrue(row[lower...q].allSatisfy { $0 > 0 }, "layer \(l) head \(h) query \(q) misses a key of its window")
                }
            }
        }
        // The window makes a difference on the local layers, and none where it covers the prompt.
        let unwindowed = try SyntheticModel.make().forward(tokens: tokens).logits
        XCTAssertNotEqual(try model.forward(tokens: tokens).logits, unwindowed)
        XCTAssertEqual(try windowedModel(window: 150).forward(tokens: tokens).logits, unwindowed)
    }

    func testEveryLayerWindowedWhenNoLayersAreNamed() throws {
        let model = try windowedModel(window: 3, layers: nil)
        XCTAssertEqual((0..<3).map { model.config.attentionWindow(layer: $0) }, [3, 3, 3])
        let tokens = SyntheticModel.tokens(20, seed: 22)
        let logits = try model.forward(tokens: tokens).lastLogits(of: 0).map(Double.init)
        let expected = DoubleReferenceModel(model).lastLogits(tokens)
        XCTAssertLessThan(zip(logits, expected).map { abs($0 - $1) }.max()!, 1e-4)
    }

    func testCachedDecodingSharedPrefixAndGenerationHonourTheWindow() throws {
        let model = try windowedModel()
        let tokens = SyntheticModel.tokens(140, seed: 23), v = model.config.vocabularySize
        let full = try model.forward(tokens: tokens, logits: .all)
        func row(_ t: Int) -> [Float] { Array(full.logits[(t * v)..<((t + 1) * v)]) }

        // One token at a time from a cache, across many windows.
        let cache = KVCache(config: model.config, reservedTokens: 4)
        _ = try model.forward([SequenceInput(tokens: Array(tokens[0..<129]), cache: cache)])
        for t in 129..<tokens.count {
            let step = try model.forward([SequenceInput(tokens: [tokens[t]], cache: cache)])
            let result = compare(Array(step.lastLogits(of: 0)), row(t), relativeFloor: 1)
            XCTAssertLessThan(result.maxAbsoluteDifference, 1e-5, "cached position \(t): \(result)")
        }
        // Several tokens over a read-only prefix: the window reaches back into the prefix.
        let prefix = KVCache(config: model.config)
        _ = try model.forward([SequenceInput(tokens: Array(tokens[0..<137]), cache: prefix)], logits: .none)
        let continued = try model.forward([SequenceInput(tokens: Array(tokens[137...]), prefix: prefix)], logits: .all)
        for (i, t) in (137..<tokens.count).enumerated() {
            let result = compare(Array(continued.logits[(i * v)..<((i + 1) * v)]), row(t), relativeFloor: 1)
            XCTAssertLessThan(result.maxAbsoluteDifference, 1e-5, "position \(t) after a shared prefix: \(result)")
        }
        // Greedy generation with a cache, past the window.
        let prompt = Array(tokens[0..<4])
        let generated = try model.generateGreedy(prompts: [prompt], maxNewTokens: 9)
        var sequence = prompt
        for _ in 0..<9 {
            let logits = try model.forward(tokens: sequence).lastLogits(of: 0)
            sequence.append(Int32(logits.firstIndex(of: logits.max()!)! - logits.startIndex))
        }
        XCTAssertEqual(generated[0], Array(sequence[prompt.count...]))
    }

    /// The reverse pass through windowed and global layers against central differences of the
    /// Double model (as GradientFiniteDifferenceTests, on 9 tokens and window 3).
    func testGradientsMatchCentralDifferences() throws {
        let model = try windowedModel(window: 3)
        let reference = DoubleReferenceModel(model)
        let tokens = SyntheticModel.tokens(9, seed: 24), step = 1e-4
        let target = MetricTarget(gold: 5, labels: [5, 17, 30])
        let points: [(HookPoint, DoubleReferenceModel.Point)] = (0..<3).flatMap {
            [(HookPoint.z($0), .z($0)), (.residPre($0), .residPre($0)), (.attnPattern($0), .pattern($0))]
        }
        var gradients: [HookPoint: [Float]] = [:]
        _ = try model.gradients(of: .goldLogProbability, prompts: [GradientPrompt(tokens: tokens, target: target)],
                                request: GradientRequest(points.map(\.0))) { gradients[$0.point] = Array($0.values) }
        for (point, referencePoint) in points {
            let actual = try XCTUnwrap(gradients[point], "\(point) not handed out")
            let expected = (0..<actual.count).map { index in
                let plus = reference.lastLogits(tokens) { p, values in if p == referencePoint { values[index] += step } }
                let minus = reference.lastLogits(tokens) { p, values in if p == referencePoint { values[index] -= step } }
                return (DoubleReferenceModel.metric(.goldLogProbability, logits: plus, target: target)
                    - DoubleReferenceModel.metric(.goldLogProbability, logits: minus, target: target)) / (2 * step)
            }
            let scale = expected.map(abs).max()!
            XCTAssertGreaterThan(scale, 0, "\(point): the gradient cannot be all zero here")
            let result = compare(actual, expected.map(Float.init))
            XCTAssertLessThan(result.maxAbsoluteDifference / Float(scale), 1e-4, "\(point): \(result)")
        }
    }

    func testLayerFlagsOfAnotherDepthAreRefused() throws {
        XCTAssertThrowsError(try windowedModel(layers: [true, false])) { error in
            XCTAssertTrue("\(error)".contains("sliding-window layer flags name 2 layers; the model has 3"), "\(error)")
        }
    }
}
