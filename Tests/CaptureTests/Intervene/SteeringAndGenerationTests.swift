import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// The engine paths of steering and of ablated generation against references computed another
/// way: a full forward pass with a hand-written resid_pre hook, and greedy generation through
/// `generateGreedy` (whole-prompt prefill, no shared prefix) with a hand-written z hook; token
/// F1 against an independent implementation with NSRegularExpression.
final class SteeringAndGenerationTests: XCTestCase {
    private func tinyModel() throws -> LoadedModel {
        try ModelLoader.load(path: Fixtures.url("models/tiny-llama3").path)
    }

    private func prompts(_ model: LoadedModel) -> [[Int32]] {
        ["Q: hot\nA: cold\n\nQ: big\nA: small\n\nQ: fast\nA:", "Sentiment: great film", "x"].map {
            model.tokenizer.encode($0, addBOS: model.tokenizer.addsBOSByDefault)
        }
    }

    func testSteeringThroughThePrefixCacheEqualsAFullForwardWithAHandWrittenHook() throws {
        let model = try tinyModel()
        let config = model.config, d = config.hiddenSize
        var rng = SplitMix64(seed: 3)
        let all = prompts(model)
        let additions = all.map { _ in
            (0..<config.layerCount).map { l in ResidualAddition(layer: l, vector: (0..<d).map { _ in rng.nextSignedUnit() * 2 }) }
                + [ResidualAddition(layer: 1, vector: [Float](repeating: 0, count: d))]
        }
        var got: [[Int: [Float]]] = Array(repeating: [:], count: all.count)
        var steering = LastTokenInterventions(transformer: model.transformer)
        steering.sequencesPerPass = 2   // several passes, as a large sweep takes
        try steering.run(prompts: all, additions: additions) { b, v, logits in got[b][v] = Array(logits) }
        var worst: Float = 0
        for (b, tokens) in all.enumerated() {
            let plain = Array(try model.transformer.forward(tokens: tokens).lastLogits(of: 0))
            XCTAssertLessThan(compare(got[b][-1]!, plain).maxAbsoluteDifference, 1e-4)
            for (v, addition) in additions[b].enumerated() {
                let hooks = Hooks()
                hooks.add(.residPre(addition.layer)) { tensor in
                    let row = tensor.shape[0] - 1
                    for i in 0..<d { tensor.values[row * d + i] += addition.vector[i] }
                }
                let expected = Array(try model.transformer.forward(tokens: tokens, hooks: hooks).lastLogits(of: 0))
                let comparison = compare(got[b][v]!, expected)
                worst = max(worst, comparison.maxAbsoluteDifference)
                XCTAssertLessThan(comparison.maxAbsoluteDifference, 1e-4, "prompt \(b) layer \(addition.layer): \(comparison)")
                if addition.vector.allSatisfy({ $0 == 0 }) {
                    XCTAssertLessThan(compare(got[b][v]!, plain).maxAbsoluteDifference, 1e-4, "a zero vector changes nothing")
                } else if tokens.count > 1 {
                    XCTAssertGreaterThan(compare(got[b][v]!, plain).maxAbsoluteDifference, 1e-3, "the vector must change the logits for the comparison to mean anything")
                }
            }
        }
        print("steering via the prefix cache vs hand-hooked full forward: max |logit diff| \(worst)")
    }

    /// Greedy generation with heads replaced at the last prompt token and every generated
    /// token, through generateGreedy and a hand-written hook on the last row of each call.
    private func handGeneration(_ model: LoadedModel, _ tokens: [Int32], heads: [HeadID], replacement: [Float],
                                newTokens: Int, stop: Set<Int32>) throws -> [Int32] {
        let h = model.config.headCount, e = model.config.headDim
        let hooks = Hooks()
        for layer in Set(heads.map(\.layer)) {
            hooks.add(.z(layer)) { tensor in
                let row = tensor.shape[0] - 1
                for id in heads where id.layer == layer {
                    for i in 0..<e { tensor.values[(row * h + id.head) * e + i] = replacement[(layer * h + id.head) * e + i] }
                }
            }
        }
        return try model.transformer.generateGreedy(prompts: [tokens], maxNewTokens: newTokens, stopTokens: stop, hooks: hooks)[0]
    }

    /// F1 as Yin & Steinhardt's eval_utils computes it, written with NSRegularExpression.
    private func handF1(_ continuation: String, _ reference: String) throws -> Double {
        func matches(_ pattern: String, _ text: String) throws -> [String] {
            let regex = try NSRegularExpression(pattern: pattern)
            return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).map { String(text[Range($0.range(at: 1), in: text)!]) }
        }
        func normalize(_ text: String) throws -> [String] {
            let punctuation = Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
            let stripped = String(text.lowercased().filter { !punctuation.contains($0) })
            let regex = try NSRegularExpression(pattern: "\\b(a|an|the)\\b")
            let noArticles = regex.stringByReplacingMatches(in: stripped, range: NSRange(stripped.startIndex..., in: stripped), withTemplate: " ")
            return noArticles.split(whereSeparator: \.isWhitespace).map(String.init)
        }
        guard let answer = try matches("([\\w. ]+)[\\nQ]*", continuation).first else { return 0 }
        let predicted = try normalize(answer), gold = try normalize(reference)
        var remaining = gold, shared = 0
        for word in predicted { if let i = remaining.firstIndex(of: word) { remaining.remove(at: i); shared += 1 } }
        if shared == 0 { return 0 }
        let p = Double(shared) / Double(predicted.count), r = Double(shared) / Double(gold.count)
        return 2 * p * r / (p + r)
    }

    func testTokenF1FollowsTheReferenceDefinition() throws {
        let cases: [(String, String)] = [
            (" cold\n\nQ: hot", " cold"), ("The big dog.", "big cat"), ("!!!", "x"), (" an apple", "apple"),
            ("A: an apple", "a"), (" New York City\n", "new york"), (" über_alles 42", "Über_alles"), ("", "x"),
            (" cold cold cold", "cold"), (" a the an", "the"),
        ]
        for (continuation, reference) in cases {
            XCTAssertEqual(TokenF1.score(continuation: continuation, reference: reference), try handF1(continuation, reference),
                           accuracy: 1e-12, "\(continuation.debugDescription) vs \(reference.debugDescription)")
        }
        XCTAssertEqual(TokenF1.score(continuation: "The big dog.", reference: "big cat"), 0.5)
        XCTAssertEqual(TokenF1.score(continuation: " cold\n\nQ:", reference: " cold"), 1)
    }

    func testAblatedGenerationEqualsHandHookedGreedyGenerationAndItsF1() throws {
        let model = try tinyModel()
        let config = model.config, e = config.headDim
        var rng = SplitMix64(seed: 5)
        let replacement = (0..<(config.layerCount * config.headCount * e)).map { _ in rng.nextSignedUnit() }
        let sets = [HeadSet(name: "none", kind: .named, heads: []),
                    HeadSet(name: "early", kind: .named, heads: [HeadID(layer: 0, head: 1), HeadID(layer: 0, head: 3)]),
                    HeadSet(name: "mixed", kind: .named, heads: [HeadID(layer: 1, head: 2), HeadID(layer: 2, head: 0)])]
        let stop = Set([model.tokenizer.eosTokenID].compactMap { $0 })
        var runner = AblatedGeneration(transformer: model.transformer, headSets: sets, newTokens: 6, stopTokens: stop) {
            model.tokenizer.decode($0)
        }
        runner.sequencesPerPass = 2
        var changed = false
        for tokens in prompts(model) {
            // References that make F1 0, 1 and in between.
            let plain = model.tokenizer.decode(try handGeneration(model, tokens, heads: [], replacement: replacement, newTokens: 6, stop: stop))
            for reference in [plain, "zzz", plain + " extra words"] {
                let result = try runner.run(prompt: tokens, replacement: replacement, gold: tokens[0], goldText: reference, labels: [])
                for (s, set) in sets.enumerated() {
                    let expected = try handGeneration(model, tokens, heads: set.heads, replacement: replacement, newTokens: 6, stop: stop)
                    XCTAssertEqual(result.generated[s], expected, "\(set.name)")
                    let text = model.tokenizer.decode(Array(expected.prefix { !stop.contains($0) }))
                    XCTAssertEqual(result.f1[s], try handF1(text, reference), accuracy: 1e-12, "\(set.name): \(text.debugDescription) vs \(reference.debugDescription)")
                    if s > 0 && expected != result.generated[0] { changed = true }
                }
            }
        }
        XCTAssertTrue(changed, "some ablation must change a continuation for the comparison to mean anything")
    }
}
