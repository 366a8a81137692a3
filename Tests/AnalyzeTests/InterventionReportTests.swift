import Analyze
import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// The report's reading of `icl-capture intervene` runs (docs/methods.md §18), end to end on
/// dumps the tiny model captured and intervened on: every number checked against values
/// computed here from the dump itself (the direct-effect estimate recomputed in Double from z,
/// W_O, the residual stream and the unembedding rows), shards merged like the capture's rows,
/// and damaged or unfinished runs refused with one line.
final class InterventionReportTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("analyze-truth-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    private static let configuration = CaptureConfiguration(
        tasks: ["antonym", "sentiment"], variants: [.clean, .shuffledLabels], shots: [2], promptsPerSet: 5, seed: 5,
        probeSequences: 2, probeLength: 8)
    private static let headSets = #"""
        {"headSets": [{"name": "early", "kind": "named", "heads": [[0, 1], [1, 2]]},
                      {"name": "single", "kind": "named", "heads": [[2, 1]]},
                      {"name": "random_00", "kind": "random", "heads": [[2, 0]]},
                      {"name": "random_01", "kind": "random", "heads": [[1, 3]]},
                      {"name": "random_02", "kind": "random", "heads": [[0, 3]]}]}
        """#
    private func model() throws -> LoadedModel { try ModelLoader.load(path: Fixtures.url("models/tiny-llama3").path) }

    /// A capture (whole or one shard) with a zero and a mean ablation at the answer position and the CIE.
    private func interveneDump(_ name: String, shard: Shard = .whole) throws -> String {
        let dump = path(name)
        try TinyCapture.write(to: dump, configuration: Self.configuration, shard: shard)
        let heads = path("heads.json")
        try Data(Self.headSets.utf8).write(to: URL(fileURLWithPath: heads))
        let model = try model()
        for action in [InterventionRequest.Action.ablate(headSetFiles: [heads], mode: .zero, positions: .answer),
                       .ablate(headSetFiles: [heads], mode: .mean, positions: .answer), .cie] {
            _ = try Intervention.run(InterventionRequest(dump: dump, action: action), model: model, modelSHA256: "0",
                                     provenance: [:], progress: { _ in nil })
        }
        return dump
    }

    private func report(_ dumps: [String], _ name: String) throws -> String {
        let out = path(name)
        let analyses = try CaptureGroups.open(dumps).map { try DumpAnalysis(dump: $0, options: AnalysisOptions()) }
        try ReportWriter.write(analyses, options: AnalysisOptions(), to: out)
        return out
    }

    private func read<T: HDF5Element>(_ dump: String, _ dataset: String, as type: T.Type = T.self) throws -> [T] {
        let file = try HDF5File.open(dump)
        defer { try? file.close() }
        return try file.openDataset(dataset).read(as: T.self)
    }

    /// §5's direct-effect estimate of zero-ablating `heads` at the answer position, recomputed
    /// here in Double: per prompt, the change in the label-restricted gold log-probability.
    private func directEstimate(_ dump: String, set: String, heads: [HeadID]) throws -> [Double] {
        let file = try HDF5File.open(dump)
        defer { try? file.close() }
        func doubles(_ name: String) throws -> [Double] { try file.openDataset(name).read(as: Float.self).map(Double.init) }
        let zShape = try file.openDataset("sets/\(set)/z").shape        // [P, pos, L, H, E]
        let residShape = try file.openDataset("sets/\(set)/resid").shape  // [P, pos, L+1, D]
        let (p, positions, l, h, e) = (zShape[0], zShape[1], zShape[2], zShape[3], zShape[4])
        let d = residShape[3]
        let z = try doubles("sets/\(set)/z"), resid = try doubles("sets/\(set)/resid"), wO = try doubles("model/W_O")
        let gamma = try doubles("model/final_norm_weight"), unembed = try doubles("model/unembed")
        let unembedIDs = try file.openDataset("model/unembed_ids").read(as: Int32.self)
        let eps = try file.openGroup("model").attribute("rms_norm_epsilon", as: Double.self)
        let labelIDs = try file.openDataset("sets/\(set)/label_ids").read(as: Int32.self)
        let gold = try file.openDataset("sets/\(set)/gold").read(as: Int32.self)
        let goldToken = try file.openDataset("sets/\(set)/gold_token").read(as: Int32.self)
        var tokens: [Int32] = []
        for id in labelIDs where !tokens.contains(id) { tokens.append(id) }
        func labelLogprob(_ stream: [Double], goldIndex: Int) -> Double {
            let scale = 1 / (stream.reduce(0) { $0 + $1 * $1 } / Double(d) + eps).squareRoot()
            let logits = tokens.map { token -> Double in
                let row = unembedIDs.firstIndex(of: token)!
                return (0..<d).reduce(0.0) { $0 + scale * gamma[$1] * stream[$1] * unembed[row * d + $1] }
            }
            let top = logits.max()!
            return logits[goldIndex] - top - log(logits.reduce(0) { $0 + exp($1 - top) })
        }
        return (0..<p).map { prompt in
            let goldIndex = tokens.firstIndex(of: gold[prompt] >= 0 ? labelIDs[Int(gold[prompt])] : goldToken[prompt])!
            let final = Array(resid[((prompt * positions) * (l + 1) + l) * d ..< ((prompt * positions) * (l + 1) + l + 1) * d])
            var ablated = final
            for head in heads {
                let zRow = ((prompt * positions) * l + head.layer) * h * e + head.head * e
                let block = (head.layer * h + head.head) * e * d
                for r in 0..<e { for j in 0..<d { ablated[j] -= z[zRow + r] * wO[block + r * d + j] } }
            }
            return labelLogprob(ablated, goldIndex: goldIndex) - labelLogprob(final, goldIndex: goldIndex)
        }
    }

    func testTheReportPutsEveryExactResultBesideItsEstimateWithTheNumbersOfTheDump() throws {
        let dump = try interveneDump("d.h5")
        let out = try report([dump], "report")
        let sets = ["antonym.clean.k2.qa", "sentiment.clean.k2.sentiment"]
        let zeroRun = "ablate.zero.answer.heads", meanRun = "ablate.mean.answer.heads"

        // Per prompt: exact deltas from the run's datasets, estimates recomputed from the dump.
        let prompts = try ReportCSV(out + "/estimate_vs_truth_prompts.csv")
        let names = try prompts.texts("head_set"), runs = try prompts.texts("intervention"), ofSet = try prompts.texts("set")
        let index = try prompts.integers("prompt_index")
        let exactVocab = try prompts.numbers("exact_total_delta_gold_logprob_vocab")
        let estimated = try prompts.numbers("direct_estimate_delta_gold_logprob_labels")
        var worstEstimate = 0.0, checked = 0
        for set in sets {
            let logprob = try read(dump, "interventions/\(zeroRun)/sets/\(set)/gold_logprob", as: Float.self)   // [P, S]
            let s = 6
            for (headSet, heads) in [("early", [HeadID(layer: 0, head: 1), HeadID(layer: 1, head: 2)]), ("random_01", [HeadID(layer: 1, head: 3)])] {
                let expected = try directEstimate(dump, set: set, heads: heads)
                let stored = ["none", "early", "single", "random_00", "random_01", "random_02"].firstIndex(of: headSet)!
                let rows = prompts.rows.indices.filter { ofSet[$0] == set && runs[$0] == zeroRun && names[$0] == headSet }
                XCTAssertEqual(rows.count, 5, "\(set) \(headSet)")
                for row in rows {
                    let p = index[row]
                    XCTAssertEqual(exactVocab[row], Double(logprob[p * s + stored]) - Double(logprob[p * s]), accuracy: 1e-6)
                    worstEstimate = max(worstEstimate, abs(estimated[row] - expected[p]))
                    checked += 1
                }
            }
        }
        XCTAssertEqual(checked, 20)
        XCTAssertLessThan(worstEstimate, 1e-4, "direct-effect estimate vs Double recomputation")
        XCTAssertTrue(estimated.contains { abs($0) > 1e-3 }, "every estimate zero is a bug until shown otherwise")

        // Agreement per head set: the coefficients of the per-prompt columns.
        let truth = try ReportCSV(out + "/estimate_vs_truth.csv")
        let scope = try truth.texts("scope"), metric = try truth.texts("metric")
        let truthSet = try truth.texts("set"), truthRun = try truth.texts("intervention"), truthHeadSet = try truth.texts("head_set")
        let exactLabels = try prompts.numbers("exact_total_delta_gold_logprob_labels")
        for set in sets {
            let rows = prompts.rows.indices.filter { ofSet[$0] == set && runs[$0] == zeroRun && names[$0] == "early" }
            let x = rows.map { estimated[$0] }, y = rows.map { exactLabels[$0] }
            let row = try XCTUnwrap(truth.rows.indices.first {
                truthSet[$0] == set && truthRun[$0] == zeroRun && scope[$0] == "head_set" && truthHeadSet[$0] == "early"
                    && metric[$0] == "gold_logprob_labels"
            })
            XCTAssertEqual(try truth.numbers("pearson")[row], Correlation.pearson(x, y) ?? .nan, accuracy: 1e-6)
            XCTAssertEqual(try truth.numbers("spearman")[row], Correlation.spearman(x, y) ?? .nan, accuracy: 1e-6)
            let agree = zip(x, y).filter { ($0 > 0) == ($1 > 0) && ($0 < 0) == ($1 < 0) }.count
            XCTAssertEqual(try truth.numbers("sign_agreement")[row], Double(agree) / Double(x.count), accuracy: 1e-9)
            let worst = rows.max { abs(estimated[$0] - exactLabels[$0]) < abs(estimated[$1] - exactLabels[$1]) }!
            XCTAssertEqual(Int(try truth.texts("worst_prompt_index")[row]), index[worst])
        }
        // Mean ablation is compared on the clean sets (their own leave-one-out mean), not on the
        // shuffled ones (the clean set's mean), which summary.json lists with the reason.
        XCTAssertTrue(truth.rows.indices.contains { truthRun[$0] == meanRun && truthSet[$0] == "sentiment.clean.k2.sentiment" })
        XCTAssertFalse(truth.rows.indices.contains { truthRun[$0] == meanRun && truthSet[$0].contains("shuffled") })
        let summary = try String(contentsOfFile: out + "/summary.json", encoding: .utf8)
        XCTAssertTrue(summary.contains("the exact mean comes from sentiment.clean.k2.sentiment"), summary)

        // heads.csv: cie_exact is the run's mean CIE on the shuffled set's rows, empty elsewhere;
        // fv_score the mean over tasks.
        let headsTable = try ReportCSV(out + "/heads.csv")
        let headSet = try headsTable.texts("set"), layer = try headsTable.integers("layer"), head = try headsTable.integers("head")
        let cieColumn = try headsTable.numbers("cie_exact"), fvColumn = try headsTable.numbers("fv_score")
        var taskMeans: [[Double]] = []
        for task in ["antonym.shuffled_labels.k2.qa", "sentiment.shuffled_labels.k2.sentiment"] {
            let cie = try read(dump, "interventions/cie/sets/\(task)/cie", as: Float.self)   // [P, L*H]
            let means = (0..<12).map { j in (0..<5).reduce(0.0) { $0 + Double(cie[$1 * 12 + j]) } / 5 }
            taskMeans.append(means)
            for row in headsTable.rows.indices where headSet[row] == task {
                XCTAssertEqual(cieColumn[row], means[layer[row] * 4 + head[row]], accuracy: 1e-9)
            }
        }
        XCTAssertTrue(headsTable.rows.indices.filter { headSet[$0].contains(".clean.") }.allSatisfy { cieColumn[$0].isNaN })
        for row in headsTable.rows.indices {
            let j = layer[row] * 4 + head[row]
            XCTAssertEqual(fvColumn[row], (taskMeans[0][j] + taskMeans[1][j]) / 2, accuracy: 1e-9)
        }
        let best = (0..<12).max { (taskMeans[0][$0] + taskMeans[1][$0], $1) < (taskMeans[0][$1] + taskMeans[1][$1], $0) }!
        let document = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(summary.utf8)) as? [String: Any])
        let entry = try XCTUnwrap((document["dumps"] as? [[String: Any]])?.first)
        XCTAssertEqual(entry["topFV"] as? [[Int]], [[best / 4, best % 4]])

        // Exact ablation against the random sets: the change in mean gold log-probability and
        // the spread of the three random sets'.
        let exact = try ReportCSV(out + "/ablation_exact.csv")
        let exactSet = try exact.texts("set"), exactRun = try exact.texts("intervention"), exactName = try exact.texts("head_set")
        let set = "sentiment.clean.k2.sentiment"
        let logprob = try read(dump, "interventions/\(zeroRun)/sets/\(set)/gold_logprob", as: Float.self)
        let delta = (0..<6).map { s in (0..<5).reduce(0.0) { $0 + Double(logprob[$1 * 6 + s]) - Double(logprob[$1 * 6]) } / 5 }
        let single = try XCTUnwrap(exact.rows.indices.first { exactSet[$0] == set && exactRun[$0] == zeroRun && exactName[$0] == "single" })
        XCTAssertEqual(try exact.numbers("delta_gold_logprob")[single], delta[2], accuracy: 1e-7)
        let random = Array(delta[3...5])
        XCTAssertEqual(try exact.numbers("random_delta_gold_logprob_mean")[single], random.reduce(0, +) / 3, accuracy: 1e-7)
        XCTAssertEqual(try exact.numbers("random_delta_gold_logprob_p05")[single], Summary.quantile(random, 0.05)!, accuracy: 1e-7)
        XCTAssertEqual(try exact.numbers("random_delta_gold_logprob_p95")[single], Summary.quantile(random, 0.95)!, accuracy: 1e-7)
        let early = try XCTUnwrap(exact.rows.indices.first { exactSet[$0] == set && exactRun[$0] == zeroRun && exactName[$0] == "early" })
        XCTAssertEqual(try exact.texts("random_sets")[early], "", "no random set has early's size")

        let page = try String(contentsOfFile: out + "/index.html", encoding: .utf8)
        XCTAssertTrue(page.contains("Exact interventions"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/report_\(set)_estimate_vs_truth_\(zeroRun).svg"))
        XCTAssertTrue(try ReportCSV(out + "/overlap.csv").texts("set_b").contains("top_fv"))
    }

    func testShardsCarryTheirOwnRunsAndMergeLikeTheCapture() throws {
        let whole = try interveneDump("whole.h5")
        let shards = try [0, 1].map { try interveneDump("s\($0).h5", shard: Shard(index: $0, count: 2)) }
        let merged = try ReportCSV(try report(shards, "sharded") + "/estimate_vs_truth_prompts.csv")
        let single = try ReportCSV(try report([whole], "whole") + "/estimate_vs_truth_prompts.csv")
        // Zero ablation needs no mean: shards and the whole capture run the same prompts.
        func zeroRows(_ table: ReportCSV) throws -> [String: (Double, Double)] {
            let run = try table.texts("intervention"), set = try table.texts("set"), name = try table.texts("head_set")
            let index = try table.integers("prompt_index")
            let estimate = try table.numbers("direct_estimate_delta_gold_logprob_labels")
            let exact = try table.numbers("exact_total_delta_gold_logprob_vocab")
            var rows: [String: (Double, Double)] = [:]
            for row in table.rows.indices where run[row] == "ablate.zero.answer.heads" {
                rows["\(set[row]) \(name[row]) \(index[row])"] = (estimate[row], exact[row])
            }
            return rows
        }
        let a = try zeroRows(merged), b = try zeroRows(single)
        XCTAssertEqual(a.count, 4 * 5 * 5)
        XCTAssertEqual(Set(a.keys), Set(b.keys))
        for (key, value) in a {
            XCTAssertEqual(value.0, b[key]!.0, accuracy: 1e-4, key)
            XCTAssertEqual(value.1, b[key]!.1, accuracy: 1e-4, key)
        }
        // Each shard's mean ablation takes its mean over the shard's own clean prompts: not the
        // estimate's, so not compared.
        let truth = try ReportCSV(path("sharded") + "/estimate_vs_truth.csv")
        XCTAssertFalse(try truth.texts("intervention").contains("ablate.mean.answer.heads"))
    }

    /// Attribution patching (§20) against every ablation run, whatever its positions and mean,
    /// and against the CIE: each estimate recomputed here from the dump's gradient datasets, each
    /// exact change from the run's gold log-probabilities (M = gold-prob).
    func testAttributionPatchingIsComparedWithEveryRunWithTheNumbersOfTheDump() throws {
        let dump = path("grads.h5")
        var configuration = Self.configuration
        configuration.grads = .goldProbability
        try TinyCapture.write(to: dump, configuration: configuration)
        let headsFile = path("heads.json")
        try Data(Self.headSets.utf8).write(to: URL(fileURLWithPath: headsFile))
        let model = try model()
        for action in [InterventionRequest.Action.ablate(headSetFiles: [headsFile], mode: .zero, positions: .all),
                       .ablate(headSetFiles: [headsFile], mode: .mean, positions: .answer), .cie] {
            _ = try Intervention.run(InterventionRequest(dump: dump, action: action), model: model, modelSHA256: "0",
                                     provenance: [:], progress: { _ in nil })
        }
        let out = try report([dump], "report")
        let file = try HDF5File.open(dump)
        let zShape = try file.openDataset("sets/antonym.clean.k2.qa/z").shape    // [P, C, L, H, E]
        try file.close()
        let (p, c, l, h, e) = (zShape[0], zShape[1], zShape[2], zShape[3], zShape[4])
        let n = l * h
        let setNames = ["none", "early", "single", "random_00", "random_01", "random_02"]
        let members: [[Int]] = [[], [0 * h + 1, 1 * h + 2], [2 * h + 1], [2 * h + 0], [1 * h + 3], [0 * h + 3]]
        /// (m - z) . dM/dz at the answer position per prompt and head, m the clean set's mean: [P, n]
        func meanAttribution(_ set: String, clean: String) throws -> [Double] {
            let z = try read(dump, "sets/\(set)/z", as: Float.self), g = try read(dump, "sets/\(set)/grad_z", as: Float.self)
            let cleanZ = try read(dump, "sets/\(clean)/z", as: Float.self)
            return (0..<(p * n)).map { i in
                let (prompt, j) = (i / n, i % n)
                return (0..<e).reduce(0.0) { total, r in
                    let mean = (0..<p).reduce(0.0) { $0 + Double(cleanZ[($1 * c * n + j) * e + r]) } / Double(p)
                    let at = (prompt * c * n + j) * e + r
                    return total + (mean - Double(z[at])) * Double(g[at])
                }
            }
        }

        let prompts = try ReportCSV(out + "/estimate_vs_truth_prompts.csv")
        let names = try prompts.texts("head_set"), runs = try prompts.texts("intervention"), ofSet = try prompts.texts("set")
        let index = try prompts.integers("prompt_index"), metric = try prompts.texts("atp_metric")
        let estimated = try prompts.numbers("atp_estimate_delta"), exact = try prompts.numbers("exact_total_delta_atp_metric")
        var checked = 0
        for (run, set) in [("ablate.zero.all.heads", "sentiment.clean.k2.sentiment"), ("ablate.mean.answer.heads", "antonym.shuffled_labels.k2.qa")] {
            let logprob = try read(dump, "interventions/\(run)/sets/\(set)/gold_logprob", as: Float.self)   // [P, S]
            let perHead = run.contains("zero")
                ? try read(dump, "sets/\(set)/head_zgrad_all_positions", as: Float.self).map { -Double($0) }
                : try meanAttribution(set, clean: "antonym.clean.k2.qa")
            for (s, headSet) in setNames.enumerated().dropFirst() {
                let rows = prompts.rows.indices.filter { ofSet[$0] == set && runs[$0] == run && names[$0] == headSet }
                XCTAssertEqual(rows.count, p, "\(run) \(set) \(headSet)")
                for row in rows {
                    let prompt = index[row]
                    XCTAssertEqual(metric[row], "gold_prob_vocab")
                    XCTAssertEqual(estimated[row], members[s].reduce(0.0) { $0 + perHead[prompt * n + $1] }, accuracy: 1e-6)
                    XCTAssertEqual(exact[row], exp(Double(logprob[prompt * 6 + s])) - exp(Double(logprob[prompt * 6])), accuracy: 1e-7)
                    checked += 1
                }
            }
        }
        XCTAssertEqual(checked, 2 * 5 * p)
        XCTAssertTrue(estimated.contains { abs($0) > 1e-6 }, "every estimate zero is a bug until shown otherwise")

        // cie_atp: the mean over prompts of (clean mean - z) . dP/dz; against cie_exact over heads.
        let set = "antonym.shuffled_labels.k2.qa"
        let perPrompt = try meanAttribution(set, clean: "antonym.clean.k2.qa")
        let expected = (0..<n).map { j in (0..<p).reduce(0.0) { $0 + perPrompt[$1 * n + j] } / Double(p) }
        let headsTable = try ReportCSV(out + "/heads.csv")
        let headSet = try headsTable.texts("set"), layer = try headsTable.integers("layer"), head = try headsTable.integers("head")
        let cieAttribution = try headsTable.numbers("cie_atp"), cieExact = try headsTable.numbers("cie_exact")
        var mine = [Double](repeating: .nan, count: n), truth = mine
        for row in headsTable.rows.indices where headSet[row] == set {
            let j = layer[row] * h + head[row]
            XCTAssertEqual(cieAttribution[row], expected[j], accuracy: 1e-7, "L\(layer[row])H\(head[row])")
            mine[j] = cieAttribution[row]
            truth[j] = cieExact[row]
        }
        XCTAssertTrue(headsTable.rows.indices.filter { headSet[$0].contains(".clean.") }.allSatisfy { cieAttribution[$0].isNaN })
        let truthTable = try ReportCSV(out + "/estimate_vs_truth.csv")
        let scope = try truthTable.texts("scope"), truthSet = try truthTable.texts("set"), estimate = try truthTable.texts("estimate")
        let row = try XCTUnwrap(truthTable.rows.indices.first { truthSet[$0] == set && scope[$0] == "heads" })
        XCTAssertEqual(estimate[row], "attribution_patching")
        XCTAssertEqual(try truthTable.numbers("spearman")[row], Correlation.spearman(mine, truth) ?? .nan, accuracy: 1e-9)
        XCTAssertEqual(try truthTable.numbers("pearson")[row], Correlation.pearson(mine, truth) ?? .nan, accuracy: 1e-9)
        XCTAssertEqual(try truthTable.integers("pairs")[row], n)
        // The direct effect is compared with the zero run at every position nowhere: listed with the reason.
        let summary = try String(contentsOfFile: out + "/summary.json", encoding: .utf8)
        XCTAssertTrue(summary.contains("ablation at every position: the direct-effect estimate is at the answer position only"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/report_\(set)_cie_atp_cie.svg"))
        let ablation = try ReportCSV(out + "/ablation.csv")
        XCTAssertTrue(ablation.header.contains("atp_delta_gold_prob_answer") && ablation.header.contains("atp_delta_gold_prob_all"))
    }

    /// label-margin gradients: the exact side is the gold label's logit minus the mean of the
    /// other labels' from the run's label logits; the CIE cannot be estimated (no probability),
    /// which summary.json says for heads.csv and for the CIE run.
    func testLabelMarginIsComparedThroughTheLabelLogitsAndLeavesTheCIEOut() throws {
        let dump = path("margin.h5")
        var configuration = Self.configuration
        configuration.tasks = ["sentiment"]
        configuration.grads = .labelMargin
        try TinyCapture.write(to: dump, configuration: configuration)
        let headsFile = path("heads.json")
        try Data(Self.headSets.utf8).write(to: URL(fileURLWithPath: headsFile))
        let model = try model()
        for action in [InterventionRequest.Action.ablate(headSetFiles: [headsFile], mode: .zero, positions: .answer), .cie] {
            _ = try Intervention.run(InterventionRequest(dump: dump, action: action), model: model, modelSHA256: "0",
                                     provenance: [:], progress: { _ in nil })
        }
        let out = try report([dump], "report")
        let set = "sentiment.shuffled_labels.k2.sentiment", run = "ablate.zero.answer.heads"
        let labelIDs = try read(dump, "sets/\(set)/label_ids", as: Int32.self)
        let goldToken = try read(dump, "sets/\(set)/gold_token", as: Int32.self)
        let logits = try read(dump, "interventions/\(run)/sets/\(set)/label_logits", as: Float.self)   // [P, S, label]
        let y = labelIDs.count
        func margin(_ prompt: Int, _ headSet: Int) -> Double {
            let row = Array(logits[((prompt * 6 + headSet) * y)..<((prompt * 6 + headSet + 1) * y)]).map(Double.init)
            let gold = row[labelIDs.firstIndex(of: goldToken[prompt])!]
            var others: [Double] = [], seen: Set<Int32> = [goldToken[prompt]]
            for (column, token) in labelIDs.enumerated() where seen.insert(token).inserted { others.append(row[column]) }
            return gold - others.reduce(0, +) / Double(others.count)
        }
        let zgrad = try read(dump, "sets/\(set)/head_zgrad_answer", as: Float.self)   // [P, L, H]
        let prompts = try ReportCSV(out + "/estimate_vs_truth_prompts.csv")
        let ofSet = try prompts.texts("set"), names = try prompts.texts("head_set"), index = try prompts.integers("prompt_index")
        let rows = prompts.rows.indices.filter { ofSet[$0] == set && names[$0] == "early" }
        XCTAssertEqual(rows.count, 5)
        for row in rows {
            let prompt = index[row]
            XCTAssertEqual(try prompts.texts("atp_metric")[row], "label_margin")
            XCTAssertEqual(try prompts.numbers("exact_total_delta_atp_metric")[row], margin(prompt, 1) - margin(prompt, 0), accuracy: 1e-5)
            XCTAssertEqual(try prompts.numbers("atp_estimate_delta")[row],
                           -Double(zgrad[prompt * 12 + 1]) - Double(zgrad[prompt * 12 + 4 + 2]), accuracy: 1e-6)
        }
        let headsTable = try ReportCSV(out + "/heads.csv")
        XCTAssertTrue(try headsTable.numbers("cie_atp").allSatisfy(\.isNaN), "label-margin says nothing about P")
        let summary = try String(contentsOfFile: out + "/summary.json", encoding: .utf8)
        XCTAssertTrue(summary.contains("cieAttributionUnavailable") && summary.contains("the dump's gradients are of label-margin"), summary)
        let truth = try ReportCSV(out + "/estimate_vs_truth.csv")
        XCTAssertFalse(try truth.texts("mode").contains("cie"), "a CIE row without a first-order CIE")
    }

    /// `icl-analyze report` refuses `dump` with one line naming it and saying `problem`.
    private func assertRefused(_ dump: String, says problem: String, file: StaticString = #filePath, line: UInt = #line) throws {
        try assertReportRefused(dump, out: path("refused"), says: problem, file: file, line: line)
    }

    func testAWronglyShapedRunAndASetWithoutExactResultsAreRefusedWithOneLine() throws {
        let dump = path("d.h5")
        try TinyCapture.write(to: dump, configuration: Self.configuration)
        let model = try model()
        _ = try Intervention.run(InterventionRequest(dump: dump, action: .cie), model: model, modelSHA256: "0",
                                 provenance: [:], progress: { _ in nil })
        let set = "antonym.shuffled_labels.k2.qa"

        // A run whose per-set dataset has one head too few.
        let broken = path("broken.h5")
        try FileManager.default.copyItem(atPath: dump, toPath: broken)
        var file = try HDF5File.open(broken, mode: .readWrite)
        let run = try file.createGroup("interventions/hand")
        try run.setAttribute("kind", "cie")
        try run.setAttribute("options", "{}")
        try run.setAttribute("sets", [set])
        _ = try run.createDimension("layer", size: 3)
        let head = try run.createDimension("head", size: 3)
        let group = try run.createGroup("sets/\(set)")
        _ = try group.createDimension("prompt", size: 5)
        _ = try group.createDimension("label", size: try file.openDataset("sets/\(set)/label").shape[0])
        _ = try group.createDataset("done", of: .uint8, shape: [5])
        _ = head
        try file.close()
        try assertRefused(broken, says: "dimension /interventions/hand/head has 3 entries, the dump's model 4")

        // A run that finished no row of a set.
        let unfinished = path("unfinished.h5")
        try FileManager.default.copyItem(atPath: dump, toPath: unfinished)
        file = try HDF5File.open(unfinished, mode: .readWrite)
        try file.openDataset("interventions/cie/sets/\(set)/done").write([UInt8](repeating: 0, count: 5))
        try file.close()
        try assertRefused(unfinished, says: "/interventions/cie/sets/\(set) has no finished row")

        // A dataset of the wrong shape.
        let reshaped = path("reshaped.h5")
        try FileManager.default.copyItem(atPath: dump, toPath: reshaped)
        file = try HDF5File.open(reshaped, mode: .readWrite)
        let extra = try file.createGroup("interventions/hand")
        try extra.setAttribute("kind", "cie")
        try extra.setAttribute("options", "{}")
        try extra.setAttribute("sets", [set])
        _ = try extra.createDimension("layer", size: 3)
        _ = try extra.createDimension("head", size: 4)
        let setGroup = try extra.createGroup("sets/\(set)")
        _ = try setGroup.createDimension("prompt", size: 5)
        _ = try setGroup.createDimension("label", size: try file.openDataset("sets/\(set)/label").shape[0])
        _ = try setGroup.createDataset("cie", of: .float32, shape: [5, 3, 3])
        _ = try setGroup.createDataset("done", of: .uint8, shape: [5])
        try file.close()
        try assertRefused(reshaped, says: "dataset /interventions/hand/sets/\(set)/cie has shape [5, 3, 3], expected [5, 3, 4]")
    }
}
