import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// `icl-capture intervene` as a user runs it, on a dump the tiny model captured: its results
/// against forward passes computed here, the dump's own contents unchanged, bad input refused
/// with one line and the file byte for byte as it was, kill -9 survived and resumed.
final class InterveneCommandTests: XCTestCase {
    private var scratch: ScratchDirectory!
    private var dump = ""
    private static let captureOptions = ["--tasks", "sentiment,antonym", "--n", "6", "--shots", "2",
                                         "--variants", "clean,shuffled-labels,zero-shot", "--probe-sequences", "2",
                                         "--probe-length", "8"]

    override func setUpWithError() throws {
        try CaptureTool.skipUnlessBuilt()
        scratch = try ScratchDirectory("intervene")
        dump = scratch.path("dump.h5")
        let captured = try CaptureTool.capture(Self.captureOptions, out: dump)
        XCTAssertTrue(captured.succeeded, "\(captured)")
    }

    override func tearDown() {
        scratch?.remove()
        super.tearDown()
    }

    private func intervene(_ options: [String], dump: String? = nil, model: String = CaptureTool.tinyModel) throws -> CaptureTool.Outcome {
        try CaptureTool.run(["intervene", "--model", model, "--dump", dump ?? self.dump] + options)
    }

    private func headFile(_ name: String, _ json: String) throws -> String {
        let path = scratch.path(name)
        try Data(json.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Every dataset and attribute of the capture, i.e. everything but /interventions.
    private func captureContents(_ path: String) throws -> DumpSnapshot {
        var snapshot = try DumpSnapshot(path: path)
        snapshot.datasets = snapshot.datasets.filter { !$0.key.hasPrefix("/interventions") }
        snapshot.attributes = snapshot.attributes.filter { !$0.key.hasPrefix("/interventions") }
        return snapshot
    }

    private func read<T: HDF5Element>(_ path: String, as type: T.Type = T.self) throws -> [T] {
        let file = try HDF5File.open(dump)
        defer { try? file.close() }
        return try file.openDataset(path).read(as: T.self)
    }

    func testZeroAblationMatchesForwardPassesWithTheHeadsZeroedAndLeavesTheCaptureAsItWas() throws {
        let before = try captureContents(dump)
        let heads = try headFile("heads.json", #"{"headSets": [{"name": "early", "heads": [[0, 1], [0, 2]]}, {"name": "late", "kind": "random", "heads": [[2, 3]]}]}"#)
        let outcome = try intervene(["--ablate", heads, "--mode", "zero", "--at", "answer"])
        XCTAssertTrue(outcome.succeeded, "\(outcome)")
        XCTAssertEqual(try captureContents(dump).datasets.keys.sorted(), before.datasets.keys.sorted())
        for (path, stored) in before.datasets {
            XCTAssertEqual(try captureContents(dump).datasets[path]?.numbers, stored.numbers, path)
        }
        XCTAssertEqual(try CaptureTool.sha256sumCheck(dump).status, 0, "a finished run writes the checksum again")

        let model = try ModelLoader.load(path: CaptureTool.tinyModel)
        let config = model.config, e = config.headDim, h = config.headCount
        let group = "/interventions/ablate.zero.answer.heads"
        let names = try HDF5File.open(dump)
        XCTAssertEqual(try names.openDataset("\(group)/head_set_name").readStrings(), ["none", "early", "late"])
        try names.close()
        let sets: [(String, [HeadID])] = [("none", []), ("early", [HeadID(layer: 0, head: 1), HeadID(layer: 0, head: 2)]),
                                          ("late", [HeadID(layer: 2, head: 3)])]
        var worst: Float = 0
        for set in ["sentiment.clean.k2.sentiment", "antonym.shuffled_labels.k2.qa"] {
            let tokens = try read("/sets/\(set)/token_ids", as: Int32.self)
            let width = tokens.count / 6
            let gold = try read("/sets/\(set)/gold_token", as: Int32.self)
            let storedLogprob = try read("/sets/\(set)/gold_logprob", as: Float.self)
            let logprob = try read("\(group)/sets/\(set)/gold_logprob", as: Float.self)   // [P, S]
            let argmax = try read("\(group)/sets/\(set)/argmax", as: Int32.self)
            let correct = try read("\(group)/sets/\(set)/correct", as: UInt8.self)
            for p in 0..<6 {
                let prompt = Array(tokens[(p * width)..<((p + 1) * width)].prefix { $0 >= 0 })
                XCTAssertEqual(logprob[p * 3], storedLogprob[p], accuracy: 1e-4, "\"none\" is the capture's own run")
                for (s, (_, heads)) in sets.enumerated() {
                    let hooks = Hooks()
                    for head in heads {
                        hooks.add(.z(head.layer)) { tensor in
                            let row = tensor.shape[0] - 1
                            for i in 0..<e { tensor.values[(row * h + head.head) * e + i] = 0 }
                        }
                    }
                    let logits = try model.transformer.forward(tokens: prompt, hooks: hooks).lastLogits(of: 0)
                    let expected = AnswerMetrics(logits: logits, gold: gold[p], labels: [])
                    worst = max(worst, abs(logprob[p * 3 + s] - expected.goldLogprob))
                    XCTAssertEqual(logprob[p * 3 + s], expected.goldLogprob, accuracy: 1e-4, "\(set) prompt \(p) set \(s)")
                    XCTAssertEqual(argmax[p * 3 + s], expected.argmax)
                    XCTAssertEqual(correct[p * 3 + s], expected.argmax == gold[p] ? 1 : 0)
                }
            }
        }
        print("intervene --ablate zero --at answer vs hand-hooked forward passes: max |gold logprob diff| \(worst)")
        XCTAssertEqual(try read("\(group)/sets/sentiment.clean.k2.sentiment/in_label_set", as: UInt8.self).count, 18)
        XCTAssertEqual(try read("\(group)/sets/sentiment.clean.k2.sentiment/done", as: UInt8.self), Array(repeating: 1, count: 6))
    }

    func testMeanAblationAtEveryPositionAndTheCIERecordTheirMeansAndAddUp() throws {
        let heads = try headFile("tr.json", #"{"heads": [[1, 0], [2, 2]], "score": "tr"}"#)
        let mean = try intervene(["--ablate", heads, "--mode", "mean", "--at", "all"])
        XCTAssertTrue(mean.succeeded, "\(mean)")
        XCTAssertTrue(mean.standardOutput.contains("zero_shot.k0.qa: skipped"), mean.standardOutput)
        let file = try HDF5File.open(dump)
        let group = try file.openGroup("interventions/ablate.mean.all.tr/sets/antonym.clean.k2.qa")
        XCTAssertEqual(try group.attribute("mean_set", as: String.self), "antonym.clean.k2.qa")
        XCTAssertEqual(try group.attribute("mean_leave_one_out", as: Int.self), 1)
        let shuffled = try file.openGroup("interventions/ablate.mean.all.tr/sets/antonym.shuffled_labels.k2.qa")
        XCTAssertEqual(try shuffled.attribute("mean_leave_one_out", as: Int.self), 0)
        XCTAssertEqual(try shuffled.openDataset("mean_prompt_index").read(as: Int32.self), Array(0..<6))
        try file.close()

        let cie = try intervene(["--cie"])
        XCTAssertTrue(cie.succeeded, "\(cie)")
        let set = "/interventions/cie/sets/sentiment.shuffled_labels.k2.sentiment"
        let corrupted = try read("\(set)/corrupted_gold_prob", as: Float.self)
        let patched = try read("\(set)/gold_prob", as: Float.self)
        let effect = try read("\(set)/cie", as: Float.self)
        let stored = try read("/sets/sentiment.shuffled_labels.k2.sentiment/gold_logprob", as: Float.self)
        XCTAssertEqual(patched.count, 6 * 3 * 4)
        for p in 0..<6 {
            XCTAssertEqual(corrupted[p], Float(exp(Double(stored[p]))), accuracy: 1e-5)
            for j in 0..<12 { XCTAssertEqual(effect[p * 12 + j], patched[p * 12 + j] - corrupted[p], accuracy: 1e-6) }
        }
        XCTAssertTrue(effect.contains { abs($0) > 1e-6 }, "an all-zero CIE matrix is a bug until shown otherwise")
        XCTAssertEqual(try CaptureTool.sha256sumCheck(dump).status, 0)
    }

    /// One line on stderr naming the file, exit 1, and the dump and its checksum file byte for
    /// byte as they were.
    private func assertRefused(_ options: [String], dump: String? = nil, model: String = CaptureTool.tinyModel, says problem: String,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let target = dump ?? self.dump
        let before = try SHA256.hexDigest(ofFile: target)
        let checksum = FileManager.default.contents(atPath: DumpChecksum.path(for: target))
        let outcome = try intervene(options, dump: target, model: model)
        XCTAssertTrue(outcome.exited, "\(outcome)", file: file, line: line)
        XCTAssertEqual(outcome.status, 1, "\(outcome)", file: file, line: line)
        XCTAssertEqual(outcome.errorLines.count, 1, "\(outcome)", file: file, line: line)
        XCTAssertTrue(outcome.standardError.contains(problem), "does not say \(problem): \(outcome.standardError)", file: file, line: line)
        XCTAssertEqual(try SHA256.hexDigest(ofFile: target), before, "the dump changed", file: file, line: line)
        XCTAssertEqual(FileManager.default.contents(atPath: DumpChecksum.path(for: target)), checksum, "the checksum file changed", file: file, line: line)
    }

    func testBadInputIsOneLineAndLeavesTheDumpUntouched() throws {
        let missing = try headFile("missing.json", #"{"heads": [[0, 1], [99, 1]]}"#)
        try assertRefused(["--ablate", missing], says: "names head L99H1, but the model has 3 layers of 4 heads")
        let broken = try headFile("broken.json", #"{"heads": [[0, 1]"#)
        try assertRefused(["--ablate", broken], says: "is not a head-set file")
        let good = try headFile("good.json", #"{"heads": [[0, 1]]}"#)
        try assertRefused(["--ablate", good, "--sets", "nonesuch"], says: "has no set nonesuch")
        try assertRefused(["--ablate", good, "--mode", "mean", "--sets", "antonym.zero_shot.k0.qa"],
                          says: "has no clean set of the same task, shots and template")
        try assertRefused(["--cie", "--sets", "antonym.clean.k2.qa"], says: "is not a shuffled-labels set")
        // Another model: a different shape, and the same shape from other files.
        try assertRefused(["--ablate", good], model: Fixtures.url("models/tiny-qwen2").path, says: "was captured from a model of")
        let otherFiles = scratch.path("other.h5")
        try TinyCapture.write(to: otherFiles, modelSHA256: "0")
        try assertRefused(["--ablate", good], dump: otherFiles, says: "was captured from another model")
        // A name already taken by a run with other options.
        XCTAssertTrue(try intervene(["--ablate", good, "--name", "taken"]).succeeded)
        try assertRefused(["--ablate", good, "--mode", "mean", "--name", "taken"], says: "holds a run with other options")
        let noShuffled = scratch.path("clean-only.h5")
        XCTAssertTrue(try CaptureTool.capture(["--tasks", "antonym", "--n", "3", "--shots", "2", "--variants", "clean"], out: noShuffled).succeeded)
        try assertRefused(["--cie"], dump: noShuffled, says: "has no shuffled-labels set")
    }

    /// kill -9 at seeded random moments; after each kill the file opens, the capture's contents
    /// are as they were and every done row equals an uninterrupted run's (1e-5 relative: a rerun
    /// batches from its first unfinished row); the same command then completes it.
    func testKillNineLeavesTheDumpReadableAndTheSameCommandCompletesIt() throws {
        // More prompts than the other tests, so that kills land mid-run.
        dump = scratch.path("large.h5")
        let captured = try CaptureTool.capture(["--tasks", "sentiment,antonym", "--n", "80", "--shots", "3",
                                                "--variants", "clean,shuffled-labels", "--probe-sequences", "0"], out: dump)
        XCTAssertTrue(captured.succeeded, "\(captured)")
        let reference = scratch.path("reference.h5")
        try FileManager.default.copyItem(atPath: dump, toPath: reference)
        let started = Date()
        XCTAssertTrue(try intervene(["--cie", "--batch-tokens", "40"], dump: reference).succeeded)
        // Kills spread over the length of a whole run, whatever this machine's speed.
        let runSeconds = Date().timeIntervalSince(started)
        let expected = try DumpSnapshot(path: reference)
        let capture = try captureContents(dump)
        var rng = SplitMix64(seed: 20240612)
        var kills = 0, survivedRows = 0
        for _ in 0..<8 {
            let running = try CaptureTool.start(["intervene", "--model", CaptureTool.tinyModel, "--dump", dump, "--cie", "--batch-tokens", "40"])
            Thread.sleep(forTimeInterval: 0.02 + Double(rng.next() % 1000) / 1000 * runSeconds)
            if running.process.isRunning { kill(running.process.processIdentifier, SIGKILL); kills += 1 }
            _ = running.finish()
            let after = try DumpSnapshot(path: dump)
            for (path, stored) in capture.datasets { XCTAssertEqual(after.datasets[path]?.numbers, stored.numbers, path) }
            for (path, done) in after.datasets where path.hasPrefix("/interventions/cie/") && path.hasSuffix("/done") {
                let base = String(path.dropLast("done".count))
                for row in 0..<done.rowCount where done.numbers[row] == 1 {
                    survivedRows += 1
                    for name in ["cie", "gold_prob", "corrupted_gold_prob"] {
                        let got = after.datasets[base + name]!.row(row).map { Float($0) }
                        let want = expected.datasets[base + name]!.row(row).map { Float($0) }
                        XCTAssertLessThan(compare(got, want, relativeFloor: 1e-3).maxRelativeDifference, 1e-5, "\(base)\(name) row \(row)")
                    }
                }
            }
        }
        let last = try intervene(["--cie", "--batch-tokens", "40"])
        XCTAssertTrue(last.succeeded, "\(last)")
        XCTAssertEqual(try CaptureTool.sha256sumCheck(dump).status, 0)
        print("intervene --cie: \(kills) kills, \(survivedRows) done rows checked after them")
    }
}
