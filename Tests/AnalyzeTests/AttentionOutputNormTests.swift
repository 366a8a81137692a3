import Analyze
import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// Dumps of models that normalise each layer's attention output before the residual add (format
/// 1.4, Gemma 3): a head writes s g ⊙ (z_h @ W_O) into the residual stream. On a synthetic dump
/// whose forward pass applies that norm, the self-check's identities hold, a head's direct
/// effect is the closed form from the raw datasets, and a dump that hides the norm fails.
final class AttentionOutputNormTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("output-norm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static let model = SyntheticModelSpec(layers: 3, heads: 4, kvHeads: 2, dHead: 8, dModel: 32, vocabulary: 512,
                                          rmsNormEpsilon: 1e-6, attentionOutputNorm: true)

    static func spec(activation: CaptureConfiguration.ActivationType = .f32) -> SyntheticDumpSpec {
        SyntheticDumpSpec(model: model, activationType: activation, seed: 11, sets: [
            SyntheticSetSpec(task: "sentiment", promptCount: 12, tokens: 32...36, labelCount: 2),
            SyntheticSetSpec(task: "topic", promptCount: 12, tokens: 32...36, labelCount: 4, undonePrompts: [5]),
        ], probe: SyntheticProbeSpec(sequences: 2, repeatLength: 8))
    }

    func testTheSelfCheckPassesAndVerifiesTheStoredScales() throws {
        for activation in [CaptureConfiguration.ActivationType.f32, .f16] {
            let dump = path("norm-\(activation).h5")
            try SyntheticDump.write(Self.spec(activation: activation), to: dump)
            let check = try CommandLineTool.run("icl-analyze", ["check", dump])
            XCTAssertEqual(check.status, 0, "\(activation): \(check.standardError)\n\(check.standardOutput)")
            XCTAssertTrue(check.standardOutput.contains("output norm"), check.standardOutput)
            XCTAssertTrue(check.standardOutput.contains("all checks passed"), check.standardOutput)
        }
    }

    /// dla_gold of every head and prompt equals s_final * (s_l g_l ⊙ (z_h @ W_O[l, h])) · (gamma ⊙ w_gold),
    /// computed here in float64 from the raw datasets.
    func testADirectEffectIsTheClosedFormThroughTheNorm() throws {
        let dump = path("closed.h5")
        try SyntheticDump.write(Self.spec(), to: dump)
        let file = try HDF5File.open(dump)
        let set = "sentiment.clean.k4.qa"
        let m = Self.model, l = m.layers, h = m.heads, e = m.dHead, d = m.dModel
        let z = try file.openDataset("sets/\(set)/z").read(as: Float.self)                       // [P, C, L, H, E]
        let positions = try file.openDataset("sets/\(set)/positions").shape[1]
        let outputScale = try file.openDataset("sets/\(set)/attention_output_norm_scale").read(as: Float.self)   // [P, C, L]
        let finalScale = try file.openDataset("sets/\(set)/final_norm_scale").read(as: Float.self)   // [P, C]
        let gold = try file.openDataset("sets/\(set)/gold").read(as: Int32.self)
        let labelIDs = try file.openDataset("sets/\(set)/label_ids").read(as: Int32.self)
        let wO = try file.openDataset("model/W_O").read(as: Float.self)
        let gain = try file.openDataset("model/attention_output_norm_weight").read(as: Float.self)
        let gamma = try file.openDataset("model/final_norm_weight").read(as: Float.self)
        let ids = try file.openDataset("model/unembed_ids").read(as: Int32.self)
        let unembed = try file.openDataset("model/unembed").read(as: Float.self)
        try file.close()

        let analysis = try DumpAnalysis(dump: try ShardedDump(paths: [dump]), options: AnalysisOptions())
        let scores = try XCTUnwrap(analysis.sets.first { $0.info.name == set }).scores
        var worst = 0.0, largest = 0.0
        for p in 0..<scores.prompts {
            let row = ids.firstIndex(of: labelIDs[Int(gold[p])])!
            for layer in 0..<l {
                let s = Double(outputScale[(p * positions) * l + layer])
                for head in 0..<h {
                    var logit = 0.0
                    for j in 0..<d {
                        var a = 0.0
                        for r in 0..<e {
                            a += Double(z[(((p * positions) * l + layer) * h + head) * e + r]) * Double(wO[((layer * h + head) * e + r) * d + j])
                        }
                        logit += s * Double(gain[layer * d + j]) * a * Double(gamma[j]) * Double(unembed[row * d + j])
                    }
                    logit *= Double(finalScale[p * positions])
                    worst = max(worst, abs(logit - Double(scores.dlaGold[p * l * h + layer * h + head])))
                    largest = max(largest, abs(logit))
                }
            }
        }
        XCTAssertGreaterThan(largest, 0.01)
        XCTAssertLessThan(worst / largest, 1e-5)
    }

    /// A dump that hides the norm (attribute "none", data still there) no longer matches its
    /// stored head projections, and the check says so; a damaged scale fails its own check; a claimed norm without its
    /// weights, or an unknown kind, is refused naming the file.
    func testHiddenDamagedOrMissingNormDataFailsNamingTheProblem() throws {
        let hidden = path("hidden.h5")
        try SyntheticDump.write(Self.spec(), to: hidden)
        var file = try HDF5File.open(hidden, mode: .readWrite)
        try file.openGroup("model").setAttribute("attention_output_norm", "none")
        try file.close()
        var check = try CommandLineTool.run("icl-analyze", ["check", hidden])
        XCTAssertEqual(check.status, 1, check.standardOutput)
        XCTAssertTrue(check.standardError.contains("check failed: stored projections"), check.standardError)

        let damaged = path("damaged.h5")
        try SyntheticDump.write(Self.spec(), to: damaged)
        file = try HDF5File.open(damaged, mode: .readWrite)
        let scales = try file.openDataset("sets/sentiment.clean.k4.qa/attention_output_norm_scale")
        var values = try scales.read(as: Float.self)
        values[1] *= 1.01
        try scales.write(values)
        try file.close()
        check = try CommandLineTool.run("icl-analyze", ["check", damaged])
        XCTAssertEqual(check.status, 1, check.standardOutput)
        XCTAssertTrue(check.standardError.contains("check failed: attention output norm"), check.standardError)

        for (kind, problem) in [("rms", "attention_output_norm_weight is missing"), ("post", "attention_output_norm is \"post\"")] {
            let dump = path("kind-\(kind).h5")
            try SyntheticDump.write(SyntheticReportTests.spec(), to: dump)
            file = try HDF5File.open(dump, mode: .readWrite)
            try file.openGroup("model").setAttribute("attention_output_norm", kind)
            try file.close()
            let result = try CommandLineTool.run("icl-analyze", ["info", dump])
            XCTAssertEqual(result.status, 1, result.standardOutput)
            XCTAssertEqual(result.standardError.split(separator: "\n").count, 1, result.standardError)
            XCTAssertTrue(result.standardError.contains(dump) && result.standardError.contains(problem), result.standardError)
        }
    }
}
