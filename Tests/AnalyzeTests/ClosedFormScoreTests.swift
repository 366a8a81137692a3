import Analyze
import Foundation
import Shared
import XCTest

/// Scores on a dump small enough to work out by hand (docs/methods.md §3, §4, §6, §9).
///
/// One layer, two heads, d_head 2, d_model 4, labels = tokens 5 and 6 with unembedding rows e1
/// and e2, gamma = 1, eps = 0. Head 0 writes (z0, z1, 0, 0), head 1 writes (0, 0, z0, z1).
/// Prompt 0: gold label 0, z = head 0 (2, 1), head 1 (3, 0), embedding (1, 0, 0, 1), no MLP.
/// Prompt 1: gold label 1, z = head 0 (0, 4), head 1 (0, 0), embedding (0, 1, 0, 0).
final class ClosedFormScoreTests: XCTestCase {
    private var path: String!

    override func setUpWithError() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("closed-form-\(UUID().uuidString).h5").path
        var dump = HandMadeDump(setName: "toy.clean.k1.qa", sizes: [
            "layer": 1, "head": 2, "d_head": 2, "d_model": 4, "resid_layer": 2, "unembed_row": 2, "vocabulary": 8,
            "prompt": 2, "token": 3, "position": 1, "shot": 1, "label": 2, "top": 1, "bound": 2,
        ])
        let s = "sets/toy.clean.k1.qa/"
        dump.floats["model/W_O"] = [1, 0, 0, 0, 0, 1, 0, 0, /* head 1 */ 0, 0, 1, 0, 0, 0, 0, 1]
        dump.floats["model/final_norm_weight"] = [1, 1, 1, 1]
        dump.ints["model/unembed_ids"] = [5, 6]
        dump.floats["model/unembed"] = [1, 0, 0, 0, 0, 1, 0, 0]
        dump.ints["model/kv_head"] = [0, 1]
        dump.floats[s + "z"] = [2, 1, 3, 0, /* prompt 1 */ 0, 4, 0, 0]
        let final0: [Float] = [3, 1, 3, 1], final1: [Float] = [0, 5, 0, 0]
        dump.floats[s + "resid"] = [1, 0, 0, 1] + final0 + [0, 1, 0, 0] + final1
        let scale0 = 1 / Float(5).squareRoot(), scale1: Float = 0.4
        dump.floats[s + "final_norm_scale"] = [scale0, scale1]
        dump.floats[s + "label_logits"] = [3 * scale0, 1 * scale0, 0, 5 * scale1]
        dump.floats[s + "head_label_logits"] = [2 * scale0, scale0, 0, 0, 0, 4 * scale1, 0, 0]
        dump.floats[s + "resid_label_logits"] = [scale0, 0, 3 * scale0, scale0, 0, scale1, 0, 5 * scale1]
        dump.ints[s + "label_ids"] = [5, 6]
        dump.ints[s + "gold"] = [0, 1]
        dump.ints[s + "gold_token"] = [5, 6]
        dump.ints[s + "argmax"] = [5, 6]
        dump.ints[s + "prompt_index"] = [0, 1]
        dump.ints[s + "token_count"] = [3, 3]
        dump.bytes[s + "special_mask"] = [1, 0, 0, 1, 0, 0]
        dump.ints[s + "demo_output_span"] = [1, 2, 1, 2]
        dump.ints[s + "query_span"] = [2, 3, 2, 3]
        dump.floats[s + "attention"] = [0.5, 0.25, 0.25, 0.5, 0.25, 0.25, /* prompt 1 */ 1, 0, 0, 0, 0, 1]
        dump.floats[s + "gold_logprob"] = [-0.1, -0.2]
        dump.bytes[s + "done"] = [1, 1]
        dump.setAttributes = ["task": .string("toy"), "task_kind": .string("classification"), "variant": .string("clean"),
                              "shots": .int(1), "template": .string("qa"), "prompt_count": .int(2),
                              "labels": .strings([" a", " b"])]
        try dump.write(to: path)
    }

    override func tearDownWithError() throws {
        if let path { try? FileManager.default.removeItem(atPath: path) }
    }

    private func scores() throws -> SetScores {
        let dump = try ShardedDump(paths: [path])
        let weights = try DumpWeights(file: dump.files[0])
        let rows = try SetRows(dump: dump, set: "toy.clean.k1.qa")
        let space = try LabelSpace(rows: rows, weights: weights, option: .raw, path: path)
        return try HeadScorePass.run(dump: dump, weights: weights, rows: rows, space: space)
    }

    func testTaskRecognitionAndLearningScoresMatchTheirDefinitions() throws {
        let s = try scores()
        let root5 = Double(5).squareRoot()
        XCTAssertEqual(s.meanTR[0], (root5 + 4) / 2, accuracy: 1e-6)
        XCTAssertEqual(s.meanTR[1], 0, accuracy: 1e-7, "head 1 writes outside the label span")
        XCTAssertEqual(s.meanTL[0], (1 / root5 + 1) / 2, accuracy: 1e-6)
        XCTAssertTrue(s.meanTL[1].isNaN, "TL of a head with no label-space component is undefined, not divided")
        XCTAssertEqual(s.undefinedTL, [0, 2])
    }

    func testDirectLogitAttributionAndComponentsReproduceTheLabelLogits() throws {
        let s = try scores()
        let scale0 = 1 / Double(5).squareRoot()
        XCTAssertEqual(s.meanDLAGold[0], (2 * scale0 + 0.4 * 4) / 2, accuracy: 1e-6)
        // margin = gold - the other label: prompt 0: s0 (2 - 1); prompt 1: 0.4 (4 - 0)
        XCTAssertEqual(s.meanDLAMargin[0], (scale0 + 1.6) / 2, accuracy: 1e-6)
        XCTAssertEqual(s.meanDLAGold[1], 0, accuracy: 1e-7)
        XCTAssertLessThan(s.componentError, 1e-6)
        XCTAssertEqual(SetScores.columnMeans(s.mlp, prompts: 2, width: 2)[0], 0, accuracy: 1e-6)
        XCTAssertEqual(SetScores.columnMeans(s.embedding, prompts: 2, width: 2)[0], (scale0 + 0.4) / 2, accuracy: 1e-6)
    }

    func testAttentionMassFollowsTheKeyCategories() throws {
        let s = try scores()
        let c = KeyCategory.allCases.count, mean = s.meanAttention
        XCTAssertEqual(mean[0 * c + KeyCategory.special.rawValue], 0.75, accuracy: 1e-7)
        XCTAssertEqual(mean[0 * c + KeyCategory.demoOutputs.rawValue], 0.125, accuracy: 1e-7)
        XCTAssertEqual(mean[0 * c + KeyCategory.query.rawValue], 0.125, accuracy: 1e-7)
        XCTAssertEqual(mean[1 * c + KeyCategory.query.rawValue], 0.625, accuracy: 1e-7)
        XCTAssertEqual(mean[1 * c + KeyCategory.template.rawValue], 0, accuracy: 1e-7)
    }

    /// The report's per_prompt table holds each prompt's TR, TL, DLA and attention masses of
    /// the tests above, before averaging.
    func testPerPromptTableHoldsEachPromptsClosedForm() throws {
        var options = AnalysisOptions()
        options.randomSets = 0
        let analysis = try DumpAnalysis(dump: try ShardedDump(paths: [path]), options: options)
        let folder = path + "-report"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try ReportWriter.write([analysis], options: options, to: folder, perPrompt: true)
        let table = try ReportCSV(folder + "/per_prompt/toy.clean.k1.qa.csv")
        XCTAssertEqual(try table.integers("prompt_index"), [0, 0, 1, 1])
        XCTAssertEqual(try table.integers("head"), [0, 1, 0, 1])
        let root5 = Double(5).squareRoot(), scale0 = 1 / root5, scale1 = 0.4
        let expected: [String: [Double]] = [
            // head 0 writes (2, 1) then (0, 4) into the label span; head 1 writes outside it.
            "tr": [root5, 0, 4, 0],
            // prompt 0: (2 - 1) / sqrt(5); prompt 1: (4 - 0) / 4; head 1 undefined.
            "tl": [1 / root5, .nan, 1, .nan],
            "dla_gold": [2 * scale0, 0, 4 * scale1, 0],
            "dla_margin": [scale0, 0, 4 * scale1, 0],
            // attention rows: prompt 0 both heads (0.5, 0.25, 0.25); prompt 1 (1, 0, 0) and (0, 0, 1);
            // key 0 special, key 1 a demonstration output, key 2 the query.
            "attn_special": [0.5, 0.5, 1, 0],
            "attn_demo_outputs": [0.25, 0.25, 0, 0],
            "attn_query": [0.25, 0.25, 0, 1],
            "attn_demo_inputs": [0, 0, 0, 0],
            "attn_template": [0, 0, 0, 0],
            "gold_logprob": [-0.1, -0.1, -0.2, -0.2],
            "correct": [1, 1, 1, 1],
            "label_correct": [1, 1, 1, 1],
        ]
        for (column, values) in expected {
            for (row, (value, want)) in zip(try table.numbers(column), values).enumerated() {
                if want.isNaN {
                    XCTAssertTrue(value.isNaN, "\(column) row \(row): \(value)")
                } else {
                    XCTAssertEqual(value, want, accuracy: 1e-6, "\(column) row \(row)")
                }
            }
        }
    }

    func testAblationEstimatesRecomputeTheFinalNorm() throws {
        var options = AnalysisOptions()
        options.randomSets = 0
        options.topFraction = 0.5
        let analysis = try DumpAnalysis(dump: try ShardedDump(paths: [path]), options: options)
        let set = try XCTUnwrap(analysis.sets.first)
        XCTAssertEqual(set.topTR.heads, [HeadID(layer: 0, head: 0)])
        let zero = try XCTUnwrap(set.ablation.first { $0.headSet == "top_tr" && $0.mode == "zero" })
        let mean = try XCTUnwrap(set.ablation.first { $0.headSet == "top_tr" && $0.mode == "mean" })
        // Zero: prompt 0 keeps (1, 0, 3, 1): gold logit 2/sqrt(11); prompt 1 keeps (0, 1, 0, 0): scale 2, gold logit 2.
        XCTAssertEqual(zero.goldLogit, (2 / Double(11).squareRoot() + 2) / 2, accuracy: 1e-6)
        // Mean (leave-one-out): prompt 0 gets prompt 1's (0, 4, 0, 0): (1, 4, 3, 1), gold logit 2/sqrt(27);
        // prompt 1 gets prompt 0's (2, 1, 0, 0): (2, 2, 0, 0), scale 1/sqrt(2), gold logit sqrt(2).
        XCTAssertEqual(mean.goldLogit, (2 / Double(27).squareRoot() + Double(2).squareRoot()) / 2, accuracy: 1e-6)
        // prompt 0 under mean ablation: labels (2/sqrt27, 8/sqrt27): wrong; prompt 1: (sqrt2, sqrt2): tie, first wins: wrong.
        XCTAssertEqual(mean.labelAccuracy, 0, accuracy: 1e-12)
        let baseline = try XCTUnwrap(set.ablation.first { $0.kind == "baseline" })
        XCTAssertEqual(baseline.labelAccuracy, 1, accuracy: 1e-12)
        XCTAssertEqual(baseline.goldLogit, (3 / Double(5).squareRoot() + 2) / 2, accuracy: 1e-6)
    }
}
