import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// Gemma 3 270M (Q4_K_M GGUF) against transformers loading the same file (fp32, CPU, eager;
/// reference/make_gemma_fixtures.py): token ids of the prompts and of extra tokenizer cases
/// identical; last-position logits within 1e-3 (the top 50, in the same order where their gaps
/// exceed the tolerance, and every 997th id of the vocabulary); every stored hook within 1e-4 of
/// its tensor's largest magnitude; the same greedy continuations. The longest prompt (847 tokens)
/// is longer than the local layers' 512-token window.
final class Gemma3RealModelTests: XCTestCase {
    nonisolated(unsafe) private static var loaded: LoadedModel?

    private func model() throws -> LoadedModel {
        guard let path = Fixtures.gemmaModel?.path else {
            throw XCTSkip("Gemma 3 270M not downloaded (scripts/setup-model)")
        }
        if let loaded = Self.loaded { return loaded }
        let loaded = try ModelLoader.load(path: path)
        Self.loaded = loaded
        return loaded
    }

    private let fixtureName = "gemma-3-270m-q4_k_m"

    func testConfigurationTakesTheGGUFValuesAndGemmaDefaults() throws {
        let c = try model().config
        XCTAssertEqual(c.architecture, .gemma3)
        XCTAssertEqual([c.layerCount, c.hiddenSize, c.headCount, c.kvHeadCount, c.headDim, c.intermediateSize],
                       [18, 640, 4, 1, 256, 2048])
        XCTAssertEqual(c.vocabularySize, 262_144)
        XCTAssertEqual(c.slidingWindow, 512)
        XCTAssertEqual((0..<18).filter { c.attentionWindow(layer: $0) == nil }, [5, 11, 17])
        XCTAssertEqual(c.ropeTheta(layer: 0), 10000)
        XCTAssertEqual(c.ropeTheta(layer: 5), 1_000_000)
        XCTAssertEqual(c.attentionScale, 1.0 / 16)
        XCTAssertTrue(c.tiedEmbeddings)
    }

    func testTokenizerMatchesTransformersOnTheSameGGUF() throws {
        let tokenizer = try model().tokenizer
        let reference = try ReferenceFixture(name: fixtureName)
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: Fixtures.url("reference/\(fixtureName).json"))) as? [String: Any]
        let cases = try XCTUnwrap(object?["tokenizer_cases"] as? [[String: Any]])
        XCTAssertGreaterThan(cases.count, 10)
        for entry in cases {
            let text = try XCTUnwrap(entry["text"] as? String), ids = try XCTUnwrap(entry["ids"] as? [Int])
            XCTAssertEqual(tokenizer.encode(text, addBOS: tokenizer.addsBOSByDefault), ids.map(Int32.init),
                           "token ids of \(text.debugDescription)")
        }
        for prompt in reference.prompts {
            XCTAssertEqual(tokenizer.encode(prompt.text, addBOS: true), prompt.ids, "\(prompt.key)")
        }
    }

    func testLogitsHooksAndGreedyContinuationsMatchTransformers() throws {
        let loaded = try model()
        let reference = try ReferenceFixture(name: fixtureName)
        let model = loaded.transformer, v = loaded.config.vocabularySize
        let probeIDs = try reference.ints("probe_ids").map(Int.init)
        for prompt in reference.prompts {
            let p = prompt.key
            let recorder = ActivationRecorder(layers: loaded.config.layerCount)
            let output = try model.forward(tokens: prompt.ids, logits: .last, hooks: recorder.hooks)
            XCTAssertEqual(output.logits.count, v)

            let top = try reference.ints("\(p).top50").map(Int.init)
            let topLogits = try reference.floats("\(p).top50_logits")
            let atTop = TestSupport.compare(top.map { output.logits[$0] }, topLogits)
            XCTAssertLessThan(atTop.maxAbsoluteDifference, 1e-3, "\(p) top-50 logits: \(atTop)")
            let probes = TestSupport.compare(probeIDs.map { output.logits[$0] }, try reference.floats("\(p).probe_logits"))
            XCTAssertLessThan(probes.maxAbsoluteDifference, 1e-3, "\(p) probe logits: \(probes)")
            // The order of the top entries wherever the reference's gap to the next exceeds the tolerance.
            let ours = LogitStatistics.topIndices(output.logits[...], count: 50)
            for i in 0..<49 where topLogits[i] - topLogits[i + 1] > 2e-3 {
                XCTAssertEqual(Set(ours.prefix(i + 1)), Set(top.prefix(i + 1)), "\(p): the top \(i + 1) tokens")
            }

            for (key, actual) in recorder.values where reference.has("\(p).\(key)") {
                let expected = try reference.floats("\(p).\(key)")
                let scale = max(expected.map(abs).max() ?? 1, 1e-6)
                let result = TestSupport.compare(actual, expected)
                XCTAssertLessThan(result.maxAbsoluteDifference / scale, 1e-4, "\(p) \(key): \(result)")
            }
            let d = loaded.config.hiddenSize, t = prompt.ids.count
            let final = try XCTUnwrap(recorder.values["resid_final"])
            let expectedFinal = try reference.floats("\(p).resid_final_last")
            let last = TestSupport.compare(Array(final[((t - 1) * d)..<(t * d)]), expectedFinal)
            XCTAssertLessThan(last.maxAbsoluteDifference / (expectedFinal.map(abs).max() ?? 1), 1e-4,
                              "\(p) resid_final at the last position: \(last)")

            if reference.has("\(p).greedy") {
                let generated = try model.generateGreedy(prompts: [prompt.ids], maxNewTokens: 20,
                                                         stopTokens: Set([reference.eosTokenID].compactMap { $0 }))
                XCTAssertEqual(generated[0], try reference.ints("\(p).greedy"), "\(p): greedy continuation")
            }
        }
    }
}
