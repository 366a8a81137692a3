import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// The reverse pass against torch autograd through transformers on the same weights (fixtures
/// made by reference/make_grad_fixtures.py: `<model>.grads.json` and `.grads.safetensors`).
/// Tolerances (issue 10): every gradient tensor within 1e-4 of its largest magnitude; metric
/// values within 1e-4 relative (they come from logits that agree to about 1e-5). The fixture
/// evaluates each metric in float64 on transformers' float32 logits, as the engine does.
final class GradientReferenceTests: XCTestCase {
    func testTinyLlama3WithGQAHeadDimAndLlama3RopeScaling() throws {
        try compare(model: Fixtures.url("models/tiny-llama3").path, fixture: "tiny-llama3")
    }

    func testTinyQwen2WithBiasesMQAAndTiedEmbeddings() throws {
        try compare(model: Fixtures.url("models/tiny-qwen2").path, fixture: "tiny-qwen2")
    }

    func testTinyLlama2WithOutputBias() throws {
        try compare(model: Fixtures.url("models/tiny-llama2").path, fixture: "tiny-llama2")
    }

    func testTinyMistralWithASlidingWindowShorterThanEveryPrompt() throws {
        try compare(model: Fixtures.url("models/tiny-mistral").path, fixture: "tiny-mistral")
    }

    func testTinyGPT2WithLayerNormAndGELU() throws {
        try compare(model: Fixtures.url("models/tiny-gpt2").path, fixture: "tiny-gpt2")
    }

    func testTinyGPTNeoXWithParallelResidualAndPartialRotary() throws {
        try compare(model: Fixtures.url("models/tiny-neox").path, fixture: "tiny-neox")
    }

    func testTinyGPTNeoXSequential() throws {
        try compare(model: Fixtures.url("models/tiny-neox-sequential").path, fixture: "tiny-neox-sequential")
    }

    func testTinyGemma3WithPostNormsQKNormsGeGLUAndLocalAndGlobalLayers() throws {
        try compare(model: Fixtures.url("models/tiny-gemma3").path, fixture: "tiny-gemma3")
    }

    func testSmolLM2FromGGUF() throws {
        guard let path = Fixtures.defaultModel?.path else {
            throw XCTSkip("default model not downloaded (scripts/setup-model)")
        }
        try compare(model: path, fixture: "SmolLM2-135M-Instruct.Q4_1")
    }

    private struct Prompt {
        let key: String
        let ids: [Int32]
        let target: MetricTarget
        /// Metric values by name (float64 in the fixture).
        let values: [String: Double]
    }

    private func compare(model path: String, fixture name: String) throws {
        let loaded = try ModelLoader.load(path: path)
        let model = loaded.transformer, c = loaded.config
        let (prompts, arrays) = try readFixture(name)
        XCTAssertFalse(prompts.isEmpty)
        var compared = 0

        for prompt in prompts {
            for metric in AnswerMetric.allCases {
                let key = "\(prompt.key).\(metric.rawValue)"
                var received: [String: [Float]] = [:]
                let request = GradientRequest((0..<c.layerCount).flatMap { [HookPoint.z($0), .residPre($0), .attnPattern($0)] }
                                              + [.residFinal])
                let output = try model.gradients(of: metric, prompts: [GradientPrompt(tokens: prompt.ids, target: prompt.target)],
                                                 request: request) { gradient in
                    received[Self.fixtureKey(gradient.point)] = Array(gradient.values)
                }
                let expectedValue = try XCTUnwrap(prompt.values[metric.rawValue], "\(name) \(key): no value")
                XCTAssertLessThan(abs(output.metricValues[0] - expectedValue), 1e-4 * max(abs(expectedValue), 1e-3),
                                  "\(name) \(key): metric \(output.metricValues[0]) vs \(expectedValue)")
                for (what, actual) in received where arrays.tensors["\(key).\(what)"] != nil {
                    let expected = try arrays.floats("\(key).\(what)")
                    let scale = max(expected.map(abs).max() ?? 0, .leastNormalMagnitude)
                    let result = TestSupport.compare(actual, expected)
                    XCTAssertLessThan(result.maxAbsoluteDifference / scale, 1e-4, "\(name) \(key).\(what): \(result)")
                    compared += 1
                }
            }
        }
        // Every stored tensor was compared.
        XCTAssertEqual(compared, arrays.tensors.count, "\(name): gradients compared")
    }

    /// The fixture's key for a gradient: z.<l>, resid_pre.<l>, attn.<l>, resid_final.
    private static func fixtureKey(_ point: HookPoint) -> String {
        switch point {
        case .z(let l): "z.\(l)"
        case .residPre(let l): "resid_pre.\(l)"
        case .attnPattern(let l): "attn.\(l)"
        default: "resid_final"
        }
    }

    private func readFixture(_ name: String) throws -> ([Prompt], SafetensorsFile) {
        let json = Fixtures.url("reference/\(name).grads.json")
        guard let object = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any],
              let entries = object["prompts"] as? [[String: Any]] else {
            throw InputError(file: json.path, "not a gradient fixture description")
        }
        let prompts = try entries.map { p in
            guard let key = p["key"] as? String, let ids = p["ids"] as? [Int], let gold = p["gold"] as? Int,
                  let labels = p["labels"] as? [Int], let values = p["values"] as? [String: Double] else { throw InputError(file: json.path, "bad prompt entry") }
            return Prompt(key: key, ids: ids.map(Int32.init),
                          target: MetricTarget(gold: Int32(gold), labels: labels.map(Int32.init)), values: values)
        }
        return (prompts, try SafetensorsFile(path: Fixtures.url("reference/\(name).grads.safetensors").path))
    }
}
