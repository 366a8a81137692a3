import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// The reverse pass against central differences of the same model written naively in Double
/// (DoubleReferenceModel) on the synthetic models: Llama-style (GQA, q/k/v and output biases,
/// llama3 RoPE, untied unembedding), GPT-2-style (LayerNorm, learned positions, GELU MLP) and
/// GPT-NeoX-style (parallel or sequential residual, RoPE on half of each head, exact GELU). In Double a step of 1e-4 leaves a truncation error of order 1e-8 and a
/// rounding error of order 1e-12, so the differences are exact to far below the fp32 engine's
/// own rounding: the bound is the 1e-4 of each tensor's largest magnitude.
final class GradientFiniteDifferenceTests: XCTestCase {
    private let step = 1e-4

    func testEveryMetricMatchesCentralDifferencesAtEveryPoint() throws {
        try checkCentralDifferences(try SyntheticModel.make())
    }

    func testGPT2LayerNormAndGELUMatchCentralDifferencesAtEveryPoint() throws {
        try checkCentralDifferences(try SyntheticModel.makeGPT2())
    }

    func testGPTNeoXParallelResidualPartialRotaryAndExactGELUMatchCentralDifferences() throws {
        try checkCentralDifferences(try SyntheticModel.makeNeoX(parallelResidual: true))
    }

    func testGPTNeoXSequentialResidualMatchesCentralDifferences() throws {
        try checkCentralDifferences(try SyntheticModel.makeNeoX(parallelResidual: false))
    }

    private func checkCentralDifferences(_ model: Transformer) throws {
        let reference = DoubleReferenceModel(model)
        let c = model.config, tokens = SyntheticModel.tokens(7, seed: 11)
        let target = MetricTarget(gold: 5, labels: [5, 17, 30, 17])

        // The Double model is the engine's function: same logits to fp32 rounding.
        let engineLogits = try model.forward(tokens: tokens).lastLogits(of: 0).map(Double.init)
        let referenceLogits = reference.lastLogits(tokens)
        XCTAssertLessThan(zip(engineLogits, referenceLogits).map { abs($0 - $1) }.max()!, 1e-4)

        let points: [(HookPoint, DoubleReferenceModel.Point)] = (0..<c.layerCount).flatMap {
            [(HookPoint.z($0), .z($0)), (.residPre($0), .residPre($0)), (.attnPattern($0), .pattern($0))]
        } + [(.residFinal, .residFinal)]
        for metric in AnswerMetric.allCases {
            var gradients: [HookPoint: [Float]] = [:]
            let output = try model.gradients(of: metric, prompts: [GradientPrompt(tokens: tokens, target: target)],
                                             request: GradientRequest(points.map(\.0))) { gradients[$0.point] = Array($0.values) }
            let value = DoubleReferenceModel.metric(metric, logits: referenceLogits, target: target)
            XCTAssertEqual(output.metricValues[0], value, accuracy: 1e-4 * max(1, abs(value)), "\(metric)")

            for (point, referencePoint) in points {
                let actual = try XCTUnwrap(gradients[point], "\(metric) \(point) not handed out")
                let expected = (0..<actual.count).map { index in
                    let plus = reference.lastLogits(tokens) { p, values in if p == referencePoint { values[index] += self.step } }
                    let minus = reference.lastLogits(tokens) { p, values in if p == referencePoint { values[index] -= self.step } }
                    return (DoubleReferenceModel.metric(metric, logits: plus, target: target)
                        - DoubleReferenceModel.metric(metric, logits: minus, target: target)) / (2 * step)
                }
                let scale = expected.map(abs).max()!
                XCTAssertGreaterThan(scale, 0, "\(metric) \(point): the gradient cannot be all zero here")
                let result = compare(actual, expected.map(Float.init))
                XCTAssertLessThan(result.maxAbsoluteDifference / Float(scale), 1e-4, "\(metric) \(point): \(result)")
            }
        }
    }

    /// Each sequence of a packed batch gets its own metric's gradient in its own rows, as if
    /// it ran alone, and one thread and two give the same numbers (the attention backward's
    /// tasks own disjoint dk/dv rows: a race would show up here as a difference).
    func testPackedBatchAndThreadCountsGiveEachPromptsOwnGradient() throws {
        let model = try SyntheticModel.make()
        let c = model.config, d = c.hiddenSize, width = c.attentionWidth
        let lengths = [40, 9, 130]
        let prompts = lengths.indices.map { (b: Int) -> GradientPrompt in
            let gold = Int32(7 * b + 1)
            return GradientPrompt(tokens: SyntheticModel.tokens(lengths[b], seed: UInt64(b + 1)),
                                  target: MetricTarget(gold: gold, labels: [gold, 3, 4]))
        }
        let request = GradientRequest.headsAndResidual(layers: c.layerCount)
        func run(_ batch: [GradientPrompt], threads: Int) throws -> [HookPoint: [Float]] {
            let previous = ComputeThreads.count
            ComputeThreads.set(threads)
            defer { ComputeThreads.set(previous) }
            var gradients: [HookPoint: [Float]] = [:]
            _ = try model.gradients(of: .labelMargin, prompts: batch, request: request) { gradients[$0.point] = Array($0.values) }
            return gradients
        }
        let packed = try run(prompts, threads: 2)
        XCTAssertEqual(packed, try run(prompts, threads: 1), "one thread vs two")
        var row = 0
        for prompt in prompts {
            let alone = try run([prompt], threads: 2)
            for (point, values) in alone {
                let perRow = point.isZ ? width : d
                let slice = Array(packed[point]![(row * perRow)..<((row + prompt.tokens.count) * perRow)])
                let result = compare(slice, values)
                let scale = values.map(abs).max()!
                XCTAssertLessThan(result.maxAbsoluteDifference / scale, 1e-5, "\(point), prompt of \(prompt.tokens.count): \(result)")
            }
            row += prompt.tokens.count
        }
    }

    func testBadRequestsAndTargetsAreOneClearError() throws {
        let model = try SyntheticModel.make()
        let tokens = SyntheticModel.tokens(5, seed: 1)
        func message(_ metric: AnswerMetric, _ target: MetricTarget, _ request: GradientRequest) -> String? {
            do {
                _ = try model.gradients(of: metric, prompts: [GradientPrompt(tokens: tokens, target: target)],
                                        request: request) { _ in }
                return nil
            } catch {
                return "\(error)"
            }
        }
        let plain = GradientRequest([.residFinal])
        XCTAssertEqual(message(.labelMargin, MetricTarget(gold: 3, labels: [3, 3]), plain),
                       "prompt 0: metric label-margin needs at least one label other than the gold token 3")
        XCTAssertEqual(message(.goldLogProbability, MetricTarget(gold: 53), plain),
                       "prompt 0: metric gold-logprob: token id 53 is outside the vocabulary (0..<53)")
        XCTAssertEqual(message(.goldProbability, MetricTarget(gold: 1), GradientRequest([.z(3)])),
                       "gradient of blocks.3.attn.hook_z: the model has layers 0..<3")
        XCTAssertEqual(message(.goldProbability, MetricTarget(gold: 1), GradientRequest([.mlpOut(0)])),
                       "gradient of blocks.0.hook_mlp_out is not computed (z, resid_pre, resid_final and attention patterns are)")
    }
}

private extension HookPoint {
    var isZ: Bool { if case .z = self { true } else { false } }
}
