@testable import Analyze
import Foundation
import Shared
import XCTest

/// The ablation pass (each head's output formed once and summed into every set that holds it)
/// against the definition recomputed directly in Double (docs/methods.md §5, §9, §23, §27):
/// r' = r - sum over S of (a_h - m_h), m_h = 0 (zero) or the leave-one-out mean of a_h, then the
/// final norm of r' and its label logits w_y · norm(r'). Seeded random values on a hand-made
/// dump; overlapping head sets, for both final-norm kinds.
final class AblationRecomputationTests: XCTestCase {
    private let layers = 2, heads = 3, dHead = 4, dModel = 6, prompts = 5
    private let labelTokens: [Int32] = [2, 5, 7]
    private let setName = "toy.clean.k1.qa"
    private let headSets = [
        HeadSet(name: "a", kind: .named, heads: [HeadID(layer: 0, head: 0), HeadID(layer: 1, head: 2)]),
        HeadSet(name: "b", kind: .named, heads: [HeadID(layer: 0, head: 1)]),
        HeadSet(name: "c", kind: .named, heads: [HeadID(layer: 0, head: 0), HeadID(layer: 0, head: 1), HeadID(layer: 1, head: 1)]),
    ]
    private var paths: [String] = []

    override func tearDownWithError() throws {
        for path in paths { try? FileManager.default.removeItem(atPath: path) }
    }

    func testRMSNormAblationEqualsTheDirectRecomputation() throws {
        try check(layerNorm: false, seed: 11)
    }

    func testLayerNormAblationEqualsTheDirectRecomputation() throws {
        try check(layerNorm: true, seed: 12)
    }

    private struct Values {
        var wO: [Double], gamma: [Double], beta: [Double], unembed: [Double], z: [Double], resid: [Double], gold: [Int]
    }

    private func check(layerNorm: Bool, seed: UInt64) throws {
        let (path, v) = try writeDump(layerNorm: layerNorm, seed: seed)
        let dump = try ShardedDump(paths: [path])
        let weights = try DumpWeights(file: dump.files[0])
        XCTAssertEqual(weights.finalNormKind, layerNorm ? .layer : .rms)
        let rows = try SetRows(dump: dump, set: setName)
        let space = try LabelSpace(rows: rows, weights: weights, option: .raw, path: path)
        let scores = try HeadScorePass.run(dump: dump, weights: weights, rows: rows, space: space)
        let geometrySet = headSets[2]
        let (estimates, geometry, perPrompt) = try AblationPass.run(dump: dump, weights: weights, scores: scores, headSets: headSets,
                                                                    perPromptSets: Array(headSets.indices), geometrySets: [geometrySet])
        let y = labelTokens.count, d = dModel, e = dHead, p = prompts
        // a_h for every prompt: [P][L*H][D]
        let a = (0..<p).map { prompt in
            (0..<(layers * heads)).map { head in
                (0..<d).map { j in (0..<e).reduce(0.0) { $0 + v.z[(prompt * layers * heads + head) * e + $1] * v.wO[(head * e + $1) * d + j] } }
            }
        }
        func final(_ prompt: Int) -> [Double] { Array(v.resid[(prompt * (layers + 1) + layers) * d ..< (prompt * (layers + 1) + layers + 1) * d]) }
        // Label logits of a residual stream through the final norm: [Y]
        func logits(_ r: [Double]) -> [Double] {
            let mean = layerNorm ? r.reduce(0, +) / Double(d) : 0
            let scale = 1 / (r.reduce(0.0) { $0 + ($1 - mean) * ($1 - mean) } / Double(d)).squareRoot()
            let normed = (0..<d).map { v.gamma[$0] * (r[$0] - mean) * scale + (layerNorm ? v.beta[$0] : 0) }
            return (0..<y).map { label in (0..<d).reduce(0.0) { $0 + normed[$1] * v.unembed[label * d + $1] } }
        }
        func metrics(_ r: [Double], gold: Int) -> (logit: Double, logprob: Double, correct: Double) {
            let row = logits(r), top = row.max()!
            let logprob = row[gold] - top - log(row.reduce(0.0) { $0 + exp($1 - top) })
            return (row[gold], logprob, row.firstIndex(of: top) == gold ? 1 : 0)
        }
        func assertClose(_ got: Double?, _ want: Double, _ what: String) {
            guard let got else { return XCTFail("\(what): no value") }
            XCTAssertLessThanOrEqual(abs(got - want), 1e-5 * max(1, abs(want)), "\(what): \(got) against \(want)")
        }
        for (s, set) in headSets.enumerated() {
            let indices = set.heads.map { $0.layer * heads + $0.head }
            for (mode, name) in ["zero", "mean"].enumerated() {
                var sums = (0.0, 0.0, 0.0)
                for prompt in 0..<p {
                    var r = final(prompt)
                    for head in indices {
                        for j in 0..<d {
                            let others = (0..<p).filter { $0 != prompt }.reduce(0.0) { $0 + a[$1][head][j] } / Double(p - 1)
                            r[j] -= a[prompt][head][j] - (mode == 1 ? others : 0)
                        }
                    }
                    let m = metrics(r, gold: v.gold[prompt])
                    sums.0 += m.logit
                    sums.1 += m.logprob
                    sums.2 += m.correct
                    assertClose(perPrompt.value(set: s, mode: mode, prompt: prompt, .goldLogit), m.logit, "\(set.name) \(name) prompt \(prompt) gold logit")
                    assertClose(perPrompt.value(set: s, mode: mode, prompt: prompt, .goldLogprobLabels), m.logprob,
                                "\(set.name) \(name) prompt \(prompt) label log-prob")
                }
                let estimate = try XCTUnwrap(estimates.first { $0.headSet == set.name && $0.mode == name })
                assertClose(estimate.goldLogit, sums.0 / Double(p), "\(set.name) \(name) gold logit")
                assertClose(estimate.goldLogprobLabels, sums.1 / Double(p), "\(set.name) \(name) label log-prob")
                XCTAssertEqual(estimate.labelAccuracy, sums.2 / Double(p), accuracy: 1e-12, "\(set.name) \(name) label accuracy")
            }
        }
        let baseline = try XCTUnwrap(estimates.first { $0.kind == "baseline" })
        assertClose(baseline.goldLogit, (0..<p).reduce(0.0) { $0 + metrics(final($1), gold: v.gold[$1]).logit } / Double(p), "baseline gold logit")
        // Geometry (§9): the layer's heads of the set, X · mean over wrong labels of (w_gold - w_y).
        for layer in 0..<layers {
            let indices = geometrySet.heads.filter { $0.layer == layer }.map { $0.layer * heads + $0.head }
            let want = (0..<p).reduce(0.0) { total, prompt in
                let gold = v.gold[prompt]
                return total + (0..<d).reduce(0.0) { sum, j in
                    let x = indices.reduce(0.0) { $0 + a[prompt][$1][j] }
                    let direction = (0..<y).filter { $0 != gold }.reduce(0.0) { $0 + v.unembed[gold * d + j] - v.unembed[$1 * d + j] } / Double(y - 1)
                    return sum + x * direction
                }
            } / Double(p)
            assertClose(geometry[0].logitDifference[layer], want, "geometry layer \(layer) logit difference")
        }
    }

    /// A dump of seeded values in [-1, 1) (gamma in [0.5, 1.5)), every prompt done.
    private func writeDump(layerNorm: Bool, seed: UInt64) throws -> (String, Values) {
        var random = SplitMix64(seed: seed)
        func draws(_ count: Int, _ low: Double = -1, _ high: Double = 1) -> [Double] {
            (0..<count).map { _ in low + (high - low) * Double(random.next() >> 11) / Double(1 << 53) }
        }
        let y = labelTokens.count, p = prompts, tokens = 3
        let v = Values(wO: draws(layers * heads * dHead * dModel), gamma: draws(dModel, 0.5, 1.5), beta: draws(dModel),
                       unembed: draws(y * dModel), z: draws(p * layers * heads * dHead),
                       resid: draws(p * (layers + 1) * dModel).map { $0 * 3 }, gold: (0..<p).map { $0 % y })
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ablation-recompute-\(UUID().uuidString).h5").path
        paths.append(path)
        var dump = HandMadeDump(setName: setName, sizes: [
            "layer": layers, "head": heads, "d_head": dHead, "d_model": dModel, "resid_layer": layers + 1, "unembed_row": y,
            "vocabulary": 8, "prompt": p, "token": tokens, "position": 1, "shot": 1, "label": y, "top": 1, "bound": 2,
        ])
        let s = "sets/\(setName)/"
        func floats(_ values: [Double]) -> [Float] { values.map(Float.init) }
        dump.floats["model/W_O"] = floats(v.wO)
        dump.floats["model/final_norm_weight"] = floats(v.gamma)
        if layerNorm { dump.floats["model/final_norm_bias"] = floats(v.beta) }
        dump.ints["model/unembed_ids"] = labelTokens
        dump.floats["model/unembed"] = floats(v.unembed)
        dump.ints["model/kv_head"] = (0..<heads).map(Int32.init)
        dump.floats[s + "z"] = floats(v.z)
        dump.floats[s + "resid"] = floats(v.resid)
        dump.floats[s + "final_norm_scale"] = [Float](repeating: 1, count: p)
        dump.ints[s + "label_ids"] = labelTokens
        dump.ints[s + "gold"] = v.gold.map(Int32.init)
        dump.ints[s + "gold_token"] = v.gold.map { labelTokens[$0] }
        dump.ints[s + "argmax"] = v.gold.map { labelTokens[$0] }
        dump.ints[s + "prompt_index"] = (0..<p).map(Int32.init)
        dump.ints[s + "token_count"] = [Int32](repeating: Int32(tokens), count: p)
        dump.ints[s + "demo_output_span"] = (0..<p).flatMap { _ in [Int32(1), 2] }
        dump.ints[s + "query_span"] = (0..<p).flatMap { _ in [Int32(2), 3] }
        dump.floats[s + "attention"] = [Float](repeating: 1 / Float(tokens), count: p * layers * heads * tokens)
        dump.floats[s + "gold_logprob"] = [Float](repeating: -1, count: p)
        dump.bytes[s + "done"] = [UInt8](repeating: 1, count: p)
        dump.setAttributes = ["task": .string("toy"), "task_kind": .string("classification"), "variant": .string("clean"),
                              "shots": .int(1), "template": .string("qa"), "prompt_count": .int(p),
                              "labels": .strings([" a", " b", " c"])]
        try dump.write(to: path)
        if layerNorm {
            let file = try HDF5File.open(path, mode: .readWrite)
            try file.openGroup("model").setAttribute("final_norm_kind", "layer")
            try file.close()
        }
        return (path, v)
    }
}
