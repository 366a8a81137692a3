import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// --resume only continues a dump made with the same options and model; --shard i/n splits a
/// capture into disjoint files whose rows are the whole capture's; the same options always
/// give the same dump.
final class CaptureResumeShardTests: XCTestCase {
    private var scratch: ScratchDirectory!
    private let options = ["--tasks", "sentiment,antonym", "--n", "7", "--shots", "2", "--positions", "labels",
                           "--variants", "clean,zero-shot", "--probe-sequences", "3", "--probe-length", "10"]

    override func setUpWithError() throws {
        try CaptureTool.skipUnlessBuilt()
        scratch = try ScratchDirectory("resume-shard")
    }

    override func tearDown() {
        scratch?.remove()
        super.tearDown()
    }

    private func capture(_ extra: [String], out: String, model: String = CaptureTool.tinyModel,
                         file: StaticString = #filePath, line: UInt = #line) throws {
        let outcome = try CaptureTool.capture(options + extra, out: out, model: model)
        XCTAssertTrue(outcome.succeeded, "\(outcome)", file: file, line: line)
    }

    // MARK: Resume

    /// A copy of tiny-llama3 whose weights differ in one low mantissa bit.
    private func perturbedModel() throws -> String {
        let folder = scratch.url.appendingPathComponent("tiny-llama3-perturbed")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: CaptureTool.tinyModel), to: folder)
        let weights = folder.appendingPathComponent("model.safetensors")
        var bytes = try Data(contentsOf: weights)
        bytes[bytes.count - 4] ^= 1   // the last float's lowest mantissa bit
        try bytes.write(to: weights)
        return folder.path
    }

    /// A copy of the shipped tasks whose sentiment file lacks its last pairs (other prompts,
    /// same task name and options).
    private func editedTasks() throws -> String {
        let folder = scratch.url.appendingPathComponent("tasks-edited")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: CaptureTool.tasksDirectory), to: folder)
        let file = folder.appendingPathComponent("sentiment.jsonl")
        let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n")
        try Data((lines.dropLast(20).joined(separator: "\n") + "\n").utf8).write(to: file)
        return folder.path
    }

    func testResumeRefusesADumpMadeWithOtherOptionsModelOrTasks() throws {
        let out = scratch.path("dump.h5")
        try capture([], out: out)
        let before = try Data(contentsOf: URL(fileURLWithPath: out))
        let cases: [(String, [String], String, String)] = [
            ("more prompts", ["--n", "8"], CaptureTool.tinyModel, "other options"),
            ("float16", ["--dtype", "f16"], CaptureTool.tinyModel, "other options"),
            ("another seed", ["--seed", "9"], CaptureTool.tinyModel, "other options"),
            ("gradients", ["--grads", "gold-prob"], CaptureTool.tinyModel, "other options"),
            ("another shard", ["--shard", "1/2"], CaptureTool.tinyModel, "shard"),
            ("another model", [], try perturbedModel(), "model"),
            ("edited task files", ["--tasks-dir", try editedTasks()], CaptureTool.tinyModel, "prompts"),
        ]
        for (what, extra, model, text) in cases {
            let outcome = try CaptureTool.run(CaptureTool.runArguments(options + extra + ["--resume"], out: out, model: model))
            XCTAssertTrue(outcome.exited && outcome.status != 0, "\(what): resume was not refused: \(outcome)")
            XCTAssertEqual(outcome.errorLines.count, 1, "\(what): \(outcome)")
            XCTAssertTrue(outcome.standardError.contains(out) && outcome.standardError.contains(text), "\(what): \(outcome)")
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out)), before, "\(what): the refused dump was changed")
        }
        // A file that is not a dump at all.
        let foreign = scratch.path("notes.h5")
        try Data("not HDF5".utf8).write(to: URL(fileURLWithPath: foreign))
        let outcome = try CaptureTool.run(CaptureTool.runArguments(options + ["--resume"], out: foreign))
        XCTAssertTrue(outcome.exited && outcome.status != 0 && outcome.standardError.contains(foreign), "\(outcome)")
        XCTAssertEqual(outcome.errorLines.count, 1, "\(outcome)")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: foreign)), Data("not HDF5".utf8))
    }

    func testResumingACompleteDumpChangesNoValue() throws {
        let out = scratch.path("dump.h5")
        try capture([], out: out)
        let before = try DumpSnapshot(path: out)
        let outcome = try CaptureTool.capture(options + ["--resume"], out: out)
        XCTAssertTrue(outcome.succeeded, "\(outcome)")
        XCTAssertTrue(outcome.standardOutput.contains("captured 0 prompts"), "\(outcome)")
        assertSameDatasets(try DumpSnapshot(path: out), before, "after resuming a complete dump")
        XCTAssertEqual(try DumpChecksum.verify(out), .verified(try SHA256.hexDigest(ofFile: out)))
    }

    func testResumeRefusesADumpOfAnotherFormat() throws {
        let out = scratch.path("dump.h5")
        try capture([], out: out)
        let file = try HDF5File.open(out, mode: .readWrite)
        try file.setAttribute("format_version", "1.0")
        try file.close()
        let before = try Data(contentsOf: URL(fileURLWithPath: out))
        let outcome = try CaptureTool.capture(options + ["--resume"], out: out)
        XCTAssertTrue(outcome.exited && outcome.status != 0, "\(outcome)")
        XCTAssertEqual(outcome.errorLines.count, 1, "\(outcome)")
        XCTAssertTrue(outcome.standardError.contains(out) && outcome.standardError.contains("format 1.0"), "\(outcome)")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out)), before, "the refused dump was changed")
    }

    /// A checksum file only ever describes a dump whose every row is done: a resume removes the
    /// old one before it writes a row, and writes a new one when the dump is complete again.
    func testResumeReplacesTheChecksumOnlyWhenTheDumpIsCompleteAgain() throws {
        let out = scratch.path("dump.h5")
        let configuration = TinyCapture.configuration()
        try TinyCapture.write(to: out, configuration: configuration)
        let complete = try SHA256.hexDigest(ofFile: out)
        XCTAssertEqual(try DumpChecksum.verify(out), .verified(complete))
        // As if the capture had been killed before the last rows of a set were flagged done.
        let set = "sets/antonym.clean.k2.qa"
        let file = try HDF5File.open(out, mode: .readWrite)
        try file.openDataset(set + "/done").write([UInt8]([1, 1, 0, 0]))
        try file.close()
        let model = try LoadedModels.model(CaptureTool.tinyModel)
        let plan = try CapturePlan(configuration: configuration, tasksDirectory: URL(fileURLWithPath: CaptureTool.tasksDirectory),
                                   model: model, shard: .whole)

        var (writer, done) = try DumpWriter.resume(path: out, plan: plan, configuration: configuration, shard: .whole)
        XCTAssertFalse(FileManager.default.fileExists(atPath: DumpChecksum.path(for: out)), "the stale checksum survived the resume")
        XCTAssertEqual(done["antonym.clean.k2.qa"], [true, true, false, false])
        XCTAssertFalse(try writer.finish(), "finish wrote a checksum for an incomplete dump")
        XCTAssertEqual(try DumpChecksum.verify(out), .absent)

        (writer, done) = try DumpWriter.resume(path: out, plan: plan, configuration: configuration, shard: .whole)
        let summary = try CaptureRunner(model: model, plan: plan, writer: writer, configuration: configuration).run(done: done, progress: nil)
        XCTAssertEqual(summary.prompts, 2)
        XCTAssertTrue(try writer.finish())
        XCTAssertEqual(try DumpChecksum.verify(out), .verified(try SHA256.hexDigest(ofFile: out)))
        let check = try CaptureTool.sha256sumCheck(out)
        XCTAssertEqual(check.status, 0, check.output)
    }

    // MARK: Shards

    func testShardsAreDisjointAndTheirRowsAreTheWholeCapturesRows() throws {
        // One prompt per forward pass in every run, so rows are comparable bit for bit.
        let whole = scratch.path("whole.h5"), shard0 = scratch.path("shard0.h5"), shard1 = scratch.path("shard1.h5")
        try capture(["--batch-tokens", "1"], out: whole)
        try capture(["--batch-tokens", "1", "--shard", "0/2"], out: shard0)
        try capture(["--batch-tokens", "1", "--shard", "1/2"], out: shard1)
        let all = try DumpSnapshot(path: whole)
        let shards = [try DumpSnapshot(path: shard0), try DumpSnapshot(path: shard1)]
        XCTAssertEqual(shards.map { $0.stringAttribute("/", "shard") }, ["0/2", "1/2"])
        XCTAssertEqual(shards.map { $0.stringAttribute("/", "capture_config") },
                       Array(repeating: all.stringAttribute("/", "capture_config"), count: 2), "shards must share capture_config to merge")
        let sets = all.groupNames(under: "/sets")
        XCTAssertEqual(sets.count, 4)
        for name in sets {
            let group = "/sets/" + name
            let n = try all.dataset(group + "/prompt_index").rowCount
            var seen: [Int] = []
            for (s, shard) in shards.enumerated() {
                XCTAssertEqual(shard.groupNames(under: "/sets"), sets)
                let indices = try shard.dataset(group + "/prompt_index").ints()
                XCTAssertEqual(indices, Array(stride(from: s, to: n, by: 2)), "\(name) shard \(s)")
                seen += indices
                XCTAssertEqual(shard.intAttribute(group, "prompt_count"), n)
                XCTAssertEqual(try shard.dataset(group + "/label_ids").ints(), try all.dataset(group + "/label_ids").ints(),
                               "\(name) shard \(s): label_ids differ from the whole capture's, so label_logits columns do not line up")
                try assertRows(of: shard, group: group, indices: indices, equalRowsOf: all, context: "\(name) shard \(s)")
            }
            XCTAssertEqual(seen.sorted(), Array(0..<n), "\(name): shards are not a partition")
        }
        // Probe sequences are sharded by index too (the probe group records no index: i, i + n, ...).
        let probe = "/probes/induction.r10"
        for (s, shard) in shards.enumerated() {
            let indices = Array(stride(from: s, to: 3, by: 2))
            for name in ["token_ids", "attention_pattern", "done"] {
                let mine = try shard.dataset(probe + "/" + name), theirs = try all.dataset(probe + "/" + name)
                XCTAssertEqual(mine.rowCount, indices.count)
                for (r, index) in indices.enumerated() {
                    XCTAssertTrue(mine.row(r).elementsEqual(theirs.row(index)), "probe \(name) shard \(s) row \(r)")
                }
            }
        }
        XCTAssertEqual(try shards[0].dataset("/model/unembed_ids").ints(), try all.dataset("/model/unembed_ids").ints())
    }

    /// Each per-prompt dataset's row r of `shard` equals row indices[r] of `whole`, up to the
    /// padding of the token axis (a shard pads to its own longest prompt).
    private func assertRows(of shard: DumpSnapshot, group: String, indices: [Int], equalRowsOf whole: DumpSnapshot,
                            context: String) throws {
        let counts = try whole.dataset(group + "/token_count").ints()
        // Optional datasets (--grads) are compared where the capture has them.
        for spec in DumpLayout.promptSet.datasets where spec.dimensions.first == "prompt"
            && (!spec.optional || whole[group + "/" + spec.name] != nil) {
            let mine = try shard.dataset(group + "/" + spec.name), theirs = try whole.dataset(group + "/" + spec.name)
            XCTAssertEqual(mine.rowCount, indices.count, "\(context) \(spec.name)")
            for (r, index) in indices.enumerated() {
                let where_ = "\(context) \(spec.name) row \(r) (prompt \(index))"
                if spec.type == .string {
                    XCTAssertEqual(mine.strings[r], theirs.strings[index], where_)
                    continue
                }
                if spec.name == "label_logits" {
                    // Compared by label id, whatever the columns.
                    let myIDs = try shard.dataset(group + "/label_ids").ints(), theirIDs = try whole.dataset(group + "/label_ids").ints()
                    for (j, id) in myIDs.enumerated() {
                        guard let k = theirIDs.firstIndex(of: id) else { XCTFail("\(where_): label \(id) missing"); continue }
                        XCTAssertEqual(mine.row(r)[mine.row(r).startIndex + j].bitPattern,
                                       theirs.row(index)[theirs.row(index).startIndex + k].bitPattern, where_)
                    }
                    continue
                }
                if let axis = spec.dimensions.firstIndex(of: "token") {
                    // [prompt, ..., token]: compare each inner row up to the prompt's length.
                    XCTAssertEqual(axis, spec.dimensions.count - 1)
                    let myWidth = mine.shape[axis], theirWidth = theirs.shape[axis], n = counts[index]
                    let blocks = mine.rowWidth / myWidth
                    for b in 0..<blocks {
                        let a = mine.row(r).dropFirst(b * myWidth).prefix(myWidth)
                        let c = theirs.row(index).dropFirst(b * theirWidth).prefix(theirWidth)
                        XCTAssertTrue(a.prefix(n).elementsEqual(c.prefix(n)), "\(where_) block \(b): \(firstDifference(a.prefix(n), c.prefix(n)))")
                        let padding: Double = spec.name == "token_ids" ? -1 : 0
                        XCTAssertTrue(a.dropFirst(n).allSatisfy { $0 == padding }, "\(where_) block \(b): padding")
                    }
                    continue
                }
                XCTAssertTrue(mine.row(r).elementsEqual(theirs.row(index)) { $0.bitPattern == $1.bitPattern },
                              "\(where_): \(firstDifference(mine.row(r), theirs.row(index)))")
            }
        }
    }

    // MARK: Determinism

    func testSameOptionsGiveTheSameDumpAndAnotherSeedOtherPrompts() throws {
        let first = scratch.path("first.h5"), second = scratch.path("second.h5"), reseeded = scratch.path("reseeded.h5")
        try capture([], out: first)
        try capture([], out: second)
        try capture(["--seed", "2"], out: reseeded)
        let a = try DumpSnapshot(path: first), b = try DumpSnapshot(path: second), c = try DumpSnapshot(path: reseeded)
        assertSameDatasets(a, b, "two captures with the same options")
        XCTAssertEqual(Set(a.attributes.keys), Set(b.attributes.keys))
        for (group, attributes) in a.attributes {
            for (name, value) in attributes where !(group == "/" && name == "created") {
                XCTAssertEqual(value, b.attributes[group]?[name], "attribute \(group)@\(name)")
            }
        }
        for name in a.groupNames(under: "/sets") {
            let texts = try a.dataset("/sets/\(name)/text").strings, other = try c.dataset("/sets/\(name)/text").strings
            XCTAssertNotEqual(texts, other, "\(name): another seed gave the same prompts")
            XCTAssertEqual(c.intAttribute("/sets/" + name, "seed"), 2)
        }
        XCTAssertNotEqual(try a.dataset("/probes/induction.r10/token_ids").numbers,
                          try c.dataset("/probes/induction.r10/token_ids").numbers, "another seed gave the same probe")
    }

    private func assertSameDatasets(_ a: DumpSnapshot, _ b: DumpSnapshot, _ context: String,
                                    file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(Set(a.datasets.keys), Set(b.datasets.keys), context, file: file, line: line)
        for (path, values) in a.datasets.sorted(by: { $0.key < $1.key }) {
            guard let other = b.datasets[path] else { continue }
            XCTAssertTrue(values.identical(to: other), "\(context): \(path) differs: \(firstDifference(values.numbers[...], other.numbers[...]))",
                          file: file, line: line)
        }
    }
}
