import Analyze
import Foundation
import Shared
import XCTest

/// Attribution patching (docs/methods.md §20) on a dump small enough to work out by hand: one
/// layer, two heads, d_head 2, two prompts in a clean and a shuffled-labels set of one task,
/// gold-logprob gradients (so the CIE's dP = P dlogP is exercised).
///
/// Shuffled set (the one evaluated), per prompt p and head h: z, dM/dz at the answer position,
/// dM/dz summed over every token (G), and the stored sums z . dM/dz (answer) and over all tokens:
///
///     p0: h0 z (1, 1) g (1, 0) G (2, 1) answer 1 all 1.5;   h1 z (0, 2) g (0, 1) G (0, 3) answer 2 all 2.5
///     p1: h0 z (2, 0) g (0, 2) G (1, 2) answer 0 all -1;    h1 z (1, 1) g (1, 1) G (2, 2) answer 2 all 3
///
/// Clean set: z p0 h0 (2, 1), h1 (3, 0); p1 h0 (0, 4), h1 (0, 0): clean mean h0 (1, 2.5), h1 (1.5, 0).
/// gold_logprob of the shuffled prompts: -0.1, -0.2.
final class AttributionClosedFormTests: XCTestCase {
    private var directory: URL!
    private let shuffled = "toy.shuffled_labels.k1.qa", clean = "toy.clean.k1.qa"

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("attribution-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    private func writeDump(metric: String, positionSums: Bool = true) throws -> String {
        let out = path("toy-\(metric)-\(positionSums).h5")
        var dump = HandMadeDump(setName: shuffled, sizes: [
            "layer": 1, "head": 2, "d_head": 2, "d_model": 4, "resid_layer": 2, "unembed_row": 2, "vocabulary": 8,
            "prompt": 2, "token": 3, "position": 1, "shot": 1, "label": 2, "top": 1, "bound": 2,
        ])
        dump.rootAttributes = ["gradient_metric": metric]
        dump.floats["model/W_O"] = [1, 0, 0, 0, 0, 1, 0, 0, /* head 1 */ 0, 0, 1, 0, 0, 0, 0, 1]
        dump.floats["model/final_norm_weight"] = [1, 1, 1, 1]
        dump.ints["model/unembed_ids"] = [5, 6]
        dump.floats["model/unembed"] = [1, 0, 0, 0, 0, 1, 0, 0]
        dump.ints["model/kv_head"] = [0, 1]
        func set(_ name: String, variant: String, z: [Float], gradient: [Float], positionSum: [Float], answer: [Float],
                 all: [Float], logprob: [Float]) {
            let s = "sets/\(name)/"
            dump.floats[s + "z"] = z
            dump.floats[s + "resid"] = [1, 0, 0, 1, 3, 1, 3, 1, /* prompt 1 */ 0, 1, 0, 0, 0, 5, 0, 0]
            dump.floats[s + "final_norm_scale"] = [1 / Float(5).squareRoot(), 0.4]
            dump.floats[s + "label_logits"] = [1, 0, 0, 2]
            dump.ints[s + "label_ids"] = [5, 6]
            dump.ints[s + "gold"] = [0, 1]
            dump.ints[s + "gold_token"] = [5, 6]
            dump.ints[s + "argmax"] = [5, 6]
            dump.ints[s + "prompt_index"] = [0, 1]
            dump.ints[s + "token_count"] = [3, 3]
            dump.bytes[s + "special_mask"] = [1, 0, 0, 1, 0, 0]
            dump.ints[s + "demo_output_span"] = [1, 2, 1, 2]
            dump.ints[s + "query_span"] = [2, 3, 2, 3]
            dump.floats[s + "attention"] = [0.5, 0.25, 0.25, 0.5, 0.25, 0.25, 1, 0, 0, 0, 0, 1]
            dump.floats[s + "gold_logprob"] = logprob
            dump.bytes[s + "done"] = [1, 1]
            dump.floats[s + "grad_metric"] = logprob
            dump.floats[s + "grad_z"] = gradient
            dump.floats[s + "grad_resid"] = [Float](repeating: 0, count: 16)
            if positionSums { dump.floats[s + "grad_z_position_sum"] = positionSum }
            dump.floats[s + "head_zgrad_answer"] = answer
            dump.floats[s + "head_zgrad_all_positions"] = all
            let attributes: [String: HDF5AttributeValue] = [
                "task": .string("toy"), "task_kind": .string("classification"), "variant": .string(variant), "shots": .int(1),
                "template": .string("qa"), "prompt_count": .int(2), "labels": .strings([" a", " b"]),
            ]
            if name == shuffled { dump.setAttributes = attributes } else { dump.otherSets[name] = attributes }
        }
        set(shuffled, variant: "shuffled_labels", z: [1, 1, 0, 2, /* p1 */ 2, 0, 1, 1], gradient: [1, 0, 0, 1, 0, 2, 1, 1],
            positionSum: [2, 1, 0, 3, 1, 2, 2, 2], answer: [1, 2, 0, 2], all: [1.5, 2.5, -1, 3], logprob: [-0.1, -0.2])
        set(clean, variant: "clean", z: [2, 1, 3, 0, 0, 4, 0, 0], gradient: [1, 1, 1, 1, 1, 1, 1, 1],
            positionSum: [1, 1, 1, 1, 1, 1, 1, 1], answer: [3, 3, 4, 0], all: [3, 3, 4, 0], logprob: [-0.3, -0.4])
        try dump.write(to: out)
        return out
    }

    /// Head-set files {h0}, {h1} and {h0, h1}, ablated beside the report's own sets.
    private func analysis(_ dump: String) throws -> SetAnalysis {
        var options = AnalysisOptions()
        options.randomSets = 0
        for (name, heads) in [("first", "[[0, 0]]"), ("second", "[[0, 1]]"), ("both", "[[0, 0], [0, 1]]")] {
            let file = path("\(name).json")
            try Data(#"{"name": "\#(name)", "heads": \#(heads)}"#.utf8).write(to: URL(fileURLWithPath: file))
            options.headSetFiles.append(file)
        }
        let analysis = try DumpAnalysis(dump: try ShardedDump(paths: [dump]), options: options)
        return try XCTUnwrap(analysis.sets.first { $0.info.name == shuffled })
    }

    private func estimate(_ set: SetAnalysis, _ headSet: String, _ mode: String) throws -> AblationEstimate {
        try XCTUnwrap(set.ablation.first { $0.headSet == "file:\(headSet)" && $0.mode == mode })
    }

    func testAblationEstimatesAreTheClosedFormsAndAddOverHeads() throws {
        let set = try analysis(try writeDump(metric: "gold-logprob"))
        // zero, answer: -mean_p sum_S head_zgrad_answer; all positions: the same of the all-token sums.
        // mean (the other prompt's z, leave-one-out over 2): p0 h0 (1,-1).(1,0) = 1, h1 (1,-1).(0,1) = -1;
        // p1 h0 (-1,1).(0,2) = 2, h1 (-1,1).(1,1) = 0. At every position m . G - all:
        // p0 h0 (2,0).(2,1) - 1.5 = 2.5, h1 (1,1).(0,3) - 2.5 = 0.5; p1 h0 (1,1).(1,2) + 1 = 4, h1 (0,2).(2,2) - 3 = 1.
        let expected: [String: [String: (answer: Double, all: Double)]] = [
            "first": ["zero": (-0.5, -0.25), "mean": (1.5, 3.25)],
            "second": ["zero": (-2, -2.75), "mean": (-0.5, 0.75)],
            "both": ["zero": (-2.5, -3), "mean": (1, 4)],
        ]
        for (headSet, modes) in expected {
            for (mode, value) in modes {
                let e = try estimate(set, headSet, mode)
                XCTAssertEqual(try XCTUnwrap(e.attributionAnswer), value.answer, accuracy: 1e-9, "\(headSet) \(mode) answer")
                XCTAssertEqual(try XCTUnwrap(e.attributionAllPositions), value.all, accuracy: 1e-9, "\(headSet) \(mode) all")
            }
        }
        // First order is linear: a set's estimate is the sum of its heads'.
        for mode in ["zero", "mean"] {
            let both = try estimate(set, "both", mode), first = try estimate(set, "first", mode), second = try estimate(set, "second", mode)
            XCTAssertEqual(both.attributionAnswer!, first.attributionAnswer! + second.attributionAnswer!, accuracy: 1e-12)
            XCTAssertEqual(both.attributionAllPositions!, first.attributionAllPositions! + second.attributionAllPositions!, accuracy: 1e-12)
        }
        XCTAssertNil(set.ablation.first { $0.mode == "none" }?.attributionAnswer, "the baseline has no estimate")
    }

    func testFirstOrderCIEUsesTheCleanMeanAndTheGoldProbability() throws {
        // (clean mean - z) . g: p0 h0 (0, 1.5).(1, 0) = 0, h1 (1.5, -2).(0, 1) = -2;
        // p1 h0 (-1, 2.5).(0, 2) = 5, h1 (0.5, -1).(1, 1) = -0.5; times P = exp(gold_logprob) for gold-logprob.
        let p0 = exp(-0.1), p1 = exp(-0.2)
        let logprob = try analysis(try writeDump(metric: "gold-logprob"))
        let cie = try XCTUnwrap(logprob.attribution.cie)
        XCTAssertEqual(cie[0], (p0 * 0 + p1 * 5) / 2, accuracy: 1e-7)
        XCTAssertEqual(cie[1], (p0 * -2 + p1 * -0.5) / 2, accuracy: 1e-7)
        let probability = try XCTUnwrap(try analysis(try writeDump(metric: "gold-prob")).attribution.cie)
        XCTAssertEqual(probability[0], 2.5, accuracy: 1e-12)
        XCTAssertEqual(probability[1], -1.25, accuracy: 1e-12)
        let margin = try analysis(try writeDump(metric: "label-margin"))
        XCTAssertNil(margin.attribution.cie)
        XCTAssertTrue(margin.attribution.cieUnavailable?.contains("label-margin") == true, "\(margin.attribution.cieUnavailable ?? "nil")")
        XCTAssertNotNil(try estimate(margin, "both", "zero").attributionAnswer, "ablation estimates need no probability")
    }

    func testWithoutPositionSumsMeanAblationAtEveryPositionIsLeftEmpty() throws {
        let set = try analysis(try writeDump(metric: "gold-prob", positionSums: false))
        XCTAssertNil(try estimate(set, "both", "mean").attributionAllPositions)
        XCTAssertEqual(try XCTUnwrap(try estimate(set, "both", "mean").attributionAnswer), 1, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(try estimate(set, "both", "zero").attributionAllPositions), -3, accuracy: 1e-12)
    }
}
