import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// `icl-analyze vector`, `icl-capture intervene --steer` and `--fv-vs-induction` as a user runs
/// them on a dump the tiny model captured: the exported vector against a sum computed here from
/// the dump's z and W_O, steering and ablated generation against forward passes computed here,
/// the head sets against rankings computed here, and bad input refused with the dump untouched.
final class SteerCommandTests: XCTestCase {
    private var scratch: ScratchDirectory!
    private var dump = ""
    private let clean = "sentiment.clean.k2.sentiment"
    private let zeroShot = "sentiment.zero_shot.k0.sentiment"

    override func setUpWithError() throws {
        try CaptureTool.skipUnlessBuilt()
        scratch = try ScratchDirectory("steer")
        dump = scratch.path("dump.h5")
        let captured = try CaptureTool.capture(["--tasks", "sentiment,antonym", "--n", "6", "--shots", "2",
                                                "--variants", "clean,shuffled-labels,zero-shot", "--probe-sequences", "2",
                                                "--probe-length", "8"], out: dump)
        XCTAssertTrue(captured.succeeded, "\(captured)")
    }

    override func tearDown() {
        scratch?.remove()
        super.tearDown()
    }

    private func analyze(_ arguments: [String]) throws -> CommandLineTool.Result {
        try CommandLineTool.run("icl-analyze", arguments)
    }

    private func intervene(_ options: [String], dump: String? = nil) throws -> CaptureTool.Outcome {
        try CaptureTool.run(["intervene", "--model", CaptureTool.tinyModel, "--dump", dump ?? self.dump] + options)
    }

    private func read<T: HDF5Element>(_ path: String, as type: T.Type = T.self) throws -> [T] {
        let file = try HDF5File.open(dump)
        defer { try? file.close() }
        return try file.openDataset(path).read(as: T.self)
    }

    private func write(_ text: String, to name: String) throws -> String {
        let path = scratch.path(name)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// One line on stderr, exit 1, and the dump byte for byte as it was.
    private func assertRefused(_ options: [String], says problem: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let before = try SHA256.hexDigest(ofFile: dump)
        let outcome = try intervene(options)
        XCTAssertTrue(outcome.exited, "\(outcome)", file: file, line: line)
        XCTAssertEqual(outcome.status, 1, "\(outcome)", file: file, line: line)
        XCTAssertEqual(outcome.errorLines.count, 1, "\(outcome)", file: file, line: line)
        XCTAssertTrue(outcome.standardError.contains(problem), "does not say \(problem): \(outcome.standardError)", file: file, line: line)
        XCTAssertEqual(try SHA256.hexDigest(ofFile: dump), before, "the dump changed", file: file, line: line)
    }

    func testVectorExportSteeringAndItsBadInput() throws {
        let heads = scratch.path("tr.json")
        let ranking = try analyze(["heads", dump, "--score", "tr", "--set", clean, "--top", "25%", "--random-sets", "2", "--json"])
        XCTAssertEqual(ranking.status, 0, ranking.standardError)
        try Data(ranking.standardOutput.utf8).write(to: URL(fileURLWithPath: heads))
        let vectors = scratch.path("tr-vectors.json")
        let exported = try analyze(["vector", dump, "--set", clean, "--heads", heads, "--out", vectors])
        XCTAssertEqual(exported.status, 0, exported.standardError)
        let file = try TaskVectorFile.read(path: vectors)
        XCTAssertEqual(file.vectors.map(\.name), ["top_tr", "random_00", "random_01"])
        XCTAssertEqual(file.vectors.map(\.family), ["tr", "random", "random"], "the family comes from the head-set file's score")

        // The vector against sum_h mean_p z_h[p] @ W_O[l, h], from the dump's own arrays in float64.
        let model = try ModelLoader.load(path: CaptureTool.tinyModel)
        let c = model.config, d = c.hiddenSize, e = c.headDim, h = c.headCount
        XCTAssertEqual(file.model, TaskVectorFile.Model(sha256: try ModelFiles.sha256(of: model), name: file.model.name,
                                                         dModel: d, layers: c.layerCount, heads: h))
        let z = try read("/sets/\(clean)/z", as: Float.self)                 // [P, C, L, H, E]
        let wO = try read("/model/W_O", as: Float.self)                      // [L, H, E, D]
        let done = try read("/sets/\(clean)/done", as: UInt8.self)
        let positions = z.count / (done.count * c.layerCount * h * e)
        for vector in file.vectors {
            var expected = [Double](repeating: 0, count: d)
            for p in done.indices where done[p] == 1 {
                for id in vector.heads {
                    for r in 0..<e {
                        let zValue = Double(z[(((p * positions) * c.layerCount + id.layer) * h + id.head) * e + r])
                        for col in 0..<d { expected[col] += zValue * Double(wO[((id.layer * h + id.head) * e + r) * d + col]) / 6 }
                    }
                }
            }
            let comparison = compare(vector.values, expected.map(Float.init), relativeFloor: 1e-3)
            XCTAssertLessThan(comparison.maxRelativeDifference, 1e-5, "\(vector.name): \(comparison)")
        }
        XCTAssertEqual(file.source.promptIndex, Array(0..<6))
        XCTAssertEqual(file.source.queries.count, 6)

        // Steering at every layer; a zero vector beside the exported ones.
        let zero = TaskVectorFile(model: file.model, source: file.source, definition: "zero",
                                  vectors: [.init(name: "zero", kind: .file, heads: [], values: [Float](repeating: 0, count: d))])
        let zeroPath = scratch.path("zero.json")
        try zero.write(to: zeroPath)
        let steered = try intervene(["--steer", vectors, "--steer", zeroPath, "--layer", "all", "--scale", "2"])
        XCTAssertTrue(steered.succeeded, "\(steered)")
        let group = "/interventions/steer.tr-vectors+zero.all.x2"
        let names = try HDF5File.open(dump)
        XCTAssertEqual(try names.openDataset("\(group)/steer_vector_name").readStrings(), ["none", "top_tr", "random_00", "random_01", "zero"])
        XCTAssertEqual(try names.openDataset("\(group)/steer_vector_family").readStrings(), ["none", "tr", "random", "random", "other"])
        XCTAssertEqual(try names.openGroup(group).attribute("kind", as: String.self), "steering")
        try names.close()
        XCTAssertFalse(try HDF5File.open(dump).exists("\(group)/sets/\(clean)"), "only the zero-shot sets of the vectors' task")
        let logprob = try read("\(group)/sets/\(zeroShot)/steer_gold_logprob", as: Float.self)    // [P, V, S]
        let argmax = try read("\(group)/sets/\(zeroShot)/steer_argmax", as: Int32.self)
        let outside = try read("\(group)/sets/\(zeroShot)/outside_scoring", as: UInt8.self)        // [P, V]
        let stored = try read("/sets/\(zeroShot)/gold_logprob", as: Float.self)
        let tokens = try read("/sets/\(zeroShot)/token_ids", as: Int32.self)
        let gold = try read("/sets/\(zeroShot)/gold_token", as: Int32.self)
        let width = tokens.count / 6, v = 5, s = c.layerCount
        let cleanQueries = Set(file.source.queries)
        let spans = try read("/sets/\(zeroShot)/query_span", as: Int32.self)
        var worst: Float = 0
        for p in 0..<6 {
            let prompt = Array(tokens[(p * width)..<((p + 1) * width)].prefix { $0 >= 0 })
            let query = Array(prompt[Int(spans[2 * p])..<Int(spans[2 * p + 1])])
            XCTAssertEqual(outside[p * v], 1)
            for vector in 1..<v { XCTAssertEqual(outside[p * v + vector], cleanQueries.contains(query) ? 0 : 1) }
            for layer in 0..<s {
                XCTAssertEqual(logprob[(p * v) * s + layer], stored[p], accuracy: 1e-4, "\"none\" is the capture's own run")
                XCTAssertEqual(logprob[(p * v + 4) * s + layer], stored[p], accuracy: 1e-4, "a zero vector changes nothing")
                for vector in 1..<4 {
                    let values = file.vectors[vector - 1].values
                    let hooks = Hooks()
                    hooks.add(.residPre(layer)) { tensor in
                        let row = tensor.shape[0] - 1
                        for i in 0..<d { tensor.values[row * d + i] += 2 * values[i] }
                    }
                    let expected = AnswerMetrics(logits: try model.transformer.forward(tokens: prompt, hooks: hooks).lastLogits(of: 0),
                                                 gold: gold[p], labels: [])
                    let index = (p * v + vector) * s + layer
                    worst = max(worst, abs(logprob[index] - expected.goldLogprob))
                    XCTAssertEqual(logprob[index], expected.goldLogprob, accuracy: 1e-4, "prompt \(p) vector \(vector) layer \(layer)")
                    XCTAssertEqual(argmax[index], expected.argmax)
                }
            }
        }
        XCTAssertTrue(zip(logprob, logprob.indices).contains { abs($0 - stored[$1 / (v * s)]) > 1e-3 }, "steering must change something")
        XCTAssertEqual(try CaptureTool.sha256sumCheck(dump).status, 0)
        print("intervene --steer vs hand-hooked forward passes: max |gold logprob diff| \(worst)")

        // Bad input: another width, another model, not a vector file, a layer the model lacks.
        let narrow = TaskVectorFile(model: .init(sha256: file.model.sha256, name: "", dModel: d - 1, layers: c.layerCount, heads: h),
                                    source: file.source, definition: "", vectors: [.init(name: "v", kind: .file, heads: [], values: [Float](repeating: 1, count: d - 1))])
        let narrowPath = scratch.path("narrow.json")
        try narrow.write(to: narrowPath)
        try assertRefused(["--steer", narrowPath], says: "holds vectors of width \(d - 1), but")
        let other = TaskVectorFile(model: .init(sha256: "0123456789abcdef", name: "", dModel: d, layers: c.layerCount, heads: h),
                                   source: file.source, definition: "", vectors: zero.vectors)
        let otherPath = scratch.path("other.json")
        try other.write(to: otherPath)
        try assertRefused(["--steer", otherPath], says: "was made from another model")
        try assertRefused(["--steer", try write(#"{"heads": [[0, 1]]}"#, to: "heads-not-vector.json")], says: "is not a task-vector file")
        try assertRefused(["--steer", vectors, "--layer", "7"], says: "--layer 7: the model has layers 0..<3")
        try assertRefused(["--steer", vectors, "--layer", "x"], says: "--layer x")
        let shortVector = scratch.path("short.json")
        try TaskVectorFile(model: file.model, source: file.source, definition: "",
                           vectors: [.init(name: "zero", kind: .file, heads: [], values: [Float](repeating: 0, count: d - 1))]).write(to: shortVector)
        try assertRefused(["--steer", shortVector], says: "vector zero has \(d - 1) values, but its model's d_model is \(d)")
        let missingSet = try analyze(["vector", dump, "--set", "nonesuch", "--heads", heads, "--out", scratch.path("x.json")])
        XCTAssertEqual(missingSet.status, 1)
        XCTAssertTrue(missingSet.standardError.contains("has no set nonesuch"), missingSet.standardError)
    }

    func testFVVersusInductionSetsRankingsAndGenerations() throws {
        XCTAssertTrue(try intervene(["--cie"]).succeeded)
        let rankingPath = scratch.path("induction.json")
        let ranking = try analyze(["heads", dump, "--score", "induction", "--top", "100%", "--json"])
        XCTAssertEqual(ranking.status, 0, ranking.standardError)
        try Data(ranking.standardOutput.utf8).write(to: URL(fileURLWithPath: rankingPath))

        // Refused before the run: a partial ranking, no CIE run named so.
        let partial = try analyze(["heads", dump, "--score", "induction", "--top", "50%", "--json"])
        let partialPath = try write(partial.standardOutput, to: "partial.json")
        try assertRefused(["--fv-vs-induction", "--induction", partialPath], says: "ranks 6 heads, not all 12")
        try assertRefused(["--fv-vs-induction", "--induction", rankingPath, "--fv-from", "nonesuch"], says: "has no CIE run /interventions/nonesuch")

        let outcome = try intervene(["--fv-vs-induction", "--induction", rankingPath, "--percents", "10,25",
                                     "--random-sets", "3", "--new-tokens", "3", "--sets", clean])
        XCTAssertTrue(outcome.succeeded, "\(outcome)")
        let group = "/interventions/fv_vs_induction"
        let file = try HDF5File.open(dump)
        let names = try file.openDataset("\(group)/head_set_name").readStrings()
        XCTAssertEqual(names, ["none", "fv_top10", "induction_top10", "fv_excluding_induction_top10", "induction_excluding_fv_top10",
                               "random_top10_00", "random_top10_01", "random_top10_02",
                               "fv_top25", "induction_top25", "fv_excluding_induction_top25", "induction_excluding_fv_top25",
                               "random_top25_00", "random_top25_01", "random_top25_02"])
        let mask = try file.openDataset("\(group)/head_mask").read(as: UInt8.self)   // [S, L * H]
        try file.close()

        // The rankings computed here: AIE from the CIE run, induction from the file's order.
        let cie = try read("/interventions/cie/sets/sentiment.shuffled_labels.k2.sentiment/cie", as: Float.self)
        let cie2 = try read("/interventions/cie/sets/antonym.shuffled_labels.k2.qa/cie", as: Float.self)
        let n = 12
        var aie = [Double](repeating: 0, count: n)
        for j in 0..<n {
            for p in 0..<6 { aie[j] += (Double(cie[p * n + j]) + Double(cie2[p * n + j])) / 12 }
        }
        let fvOrder = aie.indices.sorted { (a: Int, b: Int) -> Bool in aie[a] != aie[b] ? aie[a] > aie[b] : a < b }
        struct Ranking: Decodable { let heads: [HeadID] }
        let induction = try JSONDecoder().decode(Ranking.self, from: Data(ranking.standardOutput.utf8)).heads.map { $0.layer * 4 + $0.head }
        func members(_ s: Int) -> Set<Int> { Set((0..<n).filter { mask[s * n + $0] == 1 }) }
        // 10% of 12 -> floor 1 head; 25% -> 3; the exclusion drops ceil(2% of 12) = 1 head.
        XCTAssertEqual(members(1), Set(fvOrder.prefix(1)))
        XCTAssertEqual(members(2), Set(induction.prefix(1)))
        XCTAssertEqual(members(3), Set(fvOrder.filter { $0 != induction[0] }.prefix(1)))
        XCTAssertEqual(members(4), Set(induction.filter { $0 != fvOrder[0] }.prefix(1)))
        XCTAssertEqual(members(9), Set(induction.prefix(3)))
        XCTAssertEqual(members(10), Set(fvOrder.filter { $0 != induction[0] }.prefix(3)))
        for s in 12..<15 {
            XCTAssertEqual(members(s).count, 3)
            XCTAssertTrue(members(s).isDisjoint(with: members(8).union(members(9))), "random sets lie outside that k's FV and induction sets")
        }

        // Generations against generateGreedy with a hand-written hook and the leave-one-out mean from the dump.
        let model = try ModelLoader.load(path: CaptureTool.tinyModel)
        let c = model.config, e = c.headDim, h = c.headCount, width = c.layerCount * h * e
        let z = try read("/sets/\(clean)/z", as: Float.self)
        let positions = z.count / (6 * width)
        let tokens = try read("/sets/\(clean)/token_ids", as: Int32.self)
        let generated = try read("\(group)/sets/\(clean)/generated_ids", as: Int32.self)   // [P, S, 3]
        let f1 = try read("\(group)/sets/\(clean)/generation_f1", as: Float.self)
        let storedLogprob = try read("/sets/\(clean)/gold_logprob", as: Float.self)
        let logprob = try read("\(group)/sets/\(clean)/gold_logprob", as: Float.self)
        let stop = Set([model.tokenizer.eosTokenID].compactMap { $0 })
        let t = tokens.count / 6
        for p in [0, 4] {
            let prompt = Array(tokens[(p * t)..<((p + 1) * t)].prefix { $0 >= 0 })
            var mean = [Float](repeating: 0, count: width)
            for q in 0..<6 where q != p { for i in 0..<width { mean[i] += z[q * positions * width + i] / 5 } }
            XCTAssertEqual(logprob[p * 15], storedLogprob[p], accuracy: 1e-4)
            for s in [0, 1, 9, 13] {
                let heads = members(s).map { HeadID(index: $0, heads: h) }
                let hooks = Hooks()
                for layer in Set(heads.map(\.layer)) {
                    hooks.add(.z(layer)) { tensor in
                        let row = tensor.shape[0] - 1
                        for id in heads where id.layer == layer {
                            for i in 0..<e { tensor.values[(row * h + id.head) * e + i] = mean[(layer * h + id.head) * e + i] }
                        }
                    }
                }
                let expected = try model.transformer.generateGreedy(prompts: [prompt], maxNewTokens: 3, stopTokens: stop, hooks: hooks)[0]
                let got = Array(generated[((p * 15 + s) * 3)..<((p * 15 + s + 1) * 3)])
                XCTAssertEqual(Array(got.prefix(expected.count)), expected, "prompt \(p) \(names[s])")
                XCTAssertTrue(got.dropFirst(expected.count).allSatisfy { $0 == -1 })
                XCTAssertEqual(Double(f1[p * 15 + s]), TokenF1.score(continuation: model.tokenizer.decode(Array(expected.prefix { !stop.contains($0) })),
                                                                       reference: try goldText(p)), accuracy: 1e-6)
            }
        }
        XCTAssertEqual(try CaptureTool.sha256sumCheck(dump).status, 0)
    }

    func testTRAndTLRankingsAddTheirFamiliesToFVVersusInduction() throws {
        XCTAssertTrue(try intervene(["--cie"]).succeeded)
        var paths: [String: String] = [:]
        for score in ["induction", "tr", "tl"] {
            let ranking = try analyze(["heads", dump, "--score", score] + (score == "induction" ? [] : ["--set", clean]) + ["--top", "100%", "--json"])
            XCTAssertEqual(ranking.status, 0, ranking.standardError)
            paths[score] = try write(ranking.standardOutput, to: "\(score).json")
        }
        let partial = try analyze(["heads", dump, "--score", "tr", "--set", clean, "--top", "50%", "--json"])
        try assertRefused(["--fv-vs-induction", "--induction", paths["induction"]!, "--tr", try write(partial.standardOutput, to: "partial.json")],
                          says: "ranks 6 heads, not all 12 (make it with icl-analyze heads --score tr --top 100% --json)")
        let misplaced = try intervene(["--cie", "--tl", paths["tl"]!])
        XCTAssertEqual(misplaced.status, 1, "\(misplaced)")
        XCTAssertTrue(misplaced.standardError.contains("--tr and --tl add TR and TL head sets to --fv-vs-induction"), misplaced.standardError)

        let outcome = try intervene(["--fv-vs-induction", "--induction", paths["induction"]!, "--tr", paths["tr"]!, "--tl", paths["tl"]!,
                                     "--percents", "25", "--random-sets", "4", "--new-tokens", "2", "--sets", clean])
        XCTAssertTrue(outcome.succeeded, "\(outcome)")
        let group = "/interventions/fv_vs_induction"
        let file = try HDF5File.open(dump)
        let names = try file.openDataset("\(group)/head_set_name").readStrings()
        let families = try file.openDataset("\(group)/head_set_family").readStrings()
        let options = try file.openGroup(group).attribute("options", as: String.self)
        let mask = try file.openDataset("\(group)/head_mask").read(as: UInt8.self)   // [S, L * H]
        try file.close()
        XCTAssertEqual(names, ["none", "fv_top25", "induction_top25", "fv_excluding_induction_top25", "induction_excluding_fv_top25",
                               "tr_top25", "tl_top25", "random_top25_00", "random_top25_01", "random_top25_02", "random_top25_03"])
        XCTAssertEqual(families, ["none", "fv", "induction", "fv_excluding_induction", "induction_excluding_fv", "tr", "tl",
                                  "random", "random", "random", "random"])
        XCTAssertTrue(options.contains("\"trFile\"") && options.contains("\"tlFile\""), options)

        // tr_top25 and tl_top25 are the first 3 of 12 heads of each file; the random sets avoid
        // the FV, induction, TR and TL sets of that k.
        struct Ranking: Decodable { let heads: [HeadID] }
        func top(_ score: String) throws -> Set<Int> {
            let ranking = try JSONDecoder().decode(Ranking.self, from: Data(contentsOf: URL(fileURLWithPath: paths[score]!)))
            return Set(ranking.heads.prefix(3).map { $0.layer * 4 + $0.head })
        }
        func members(_ s: Int) -> Set<Int> { Set((0..<12).filter { mask[s * 12 + $0] == 1 }) }
        XCTAssertEqual(members(5), try top("tr"))
        XCTAssertEqual(members(6), try top("tl"))
        XCTAssertEqual(members(2), try top("induction"))
        let named = members(1).union(members(2)).union(members(5)).union(members(6))
        for s in 7..<11 {
            XCTAssertEqual(members(s).count, 3)
            XCTAssertTrue(members(s).isDisjoint(with: named), "random set \(s) overlaps a named family's set")
        }
        let f1 = try read("\(group)/sets/\(clean)/generation_f1", as: Float.self)
        XCTAssertEqual(f1.count, 6 * names.count)
        XCTAssertEqual(try CaptureTool.sha256sumCheck(dump).status, 0)
    }

    private func goldText(_ p: Int) throws -> String {
        let file = try HDF5File.open(dump)
        defer { try? file.close() }
        return try file.openDataset("/sets/\(clean)/gold_text").readStrings()[p]
    }
}
