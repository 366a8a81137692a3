import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// kill -9 of `icl-capture run` at seeded random moments, from the very start (model loading,
/// layout creation) to the last rows, in fresh runs and in --resume runs. After every kill
/// there is either no file at --out (killed before the layout was committed; a .partial may
/// remain) or a file that opens read-only in which every row flagged done holds the values of
/// an uninterrupted reference capture, and rows once done never change. --resume then
/// completes the file to the reference.
///
/// Rows written by a fresh run are batched as in the reference and must match it bit for bit.
/// A resumed run batches from its first unfinished prompt, so its packed GEMMs differ and its
/// rows may differ in the last bits: those are compared with a relative tolerance of 1e-5
/// (and top-k ids exactly, except where the reference has a near tie).
/// ICL_CAPTURE_CRASH_SEED and ICL_CAPTURE_CRASH_KILLS change the seed (default 20240611) and the
/// number of kills (default 20).
final class CaptureCrashSafetyTests: XCTestCase {
    #if DEBUG
    static let prompts = "100"   // a debug build's forward pass is several times slower
    #else
    static let prompts = "300"   // a few seconds for the whole capture with --grads on 2 cores
    #endif
    /// With --grads: its rows are written by the same done-last rule and must survive the same way.
    static let options = ["--tasks", "sentiment,antonym", "--n", prompts, "--shots", "3", "--positions", "labels",
                          "--variants", "clean,shuffled-labels,zero-shot", "--probe-sequences", "16",
                          "--probe-length", "40", "--batch-tokens", "160", "--grads", "gold-logprob"]
    static let tolerance = 1e-5
    private var scratch: ScratchDirectory!

    override func setUpWithError() throws {
        try CaptureTool.skipUnlessBuilt()
        scratch = try ScratchDirectory("crash")
    }

    override func tearDown() {
        scratch?.remove()
        super.tearDown()
    }

    /// Where each done row came from, to pick exact or tolerant comparison.
    private enum Origin { case fresh, resumed }

    private struct Statistics {
        var kills = 0, noFile = 0, finishedBeforeKill = 0
        var exactRows = 0, tolerantRows = 0, tolerantRowsBitIdentical = 0
        var worstRelative = 0.0
        var doneAfterKill: [Int] = []
    }

    func testKillNineAtRandomMomentsLeavesEveryDoneRowIntactAndResumeCompletesIt() throws {
        let environment = ProcessInfo.processInfo.environment
        let seed = environment["ICL_CAPTURE_CRASH_SEED"].flatMap { UInt64($0) } ?? 20240611
        let kills = max(4, environment["ICL_CAPTURE_CRASH_KILLS"].flatMap { Int($0) } ?? 20)
        var rng = SplitMix64(seed: seed)
        let started = Date()

        let referencePath = scratch.path("reference.h5")
        let referenceRun = try CaptureTool.capture(Self.options, out: referencePath)
        XCTAssertTrue(referenceRun.succeeded, "\(referenceRun)")
        guard referenceRun.succeeded else { return }
        let reference = try DumpSnapshot(path: referencePath)
        let fullRun = referenceRun.seconds
        let rowsTotal = groups(of: reference).reduce(0) { $0 + (reference[$1 + "/done"]?.rowCount ?? 0) }

        let out = scratch.path("dump.h5")
        var statistics = Statistics()
        let chainLength = 4
        var kill = 0
        while kill < kills {
            // A chain: a fresh run killed, then resumed and killed chainLength - 1 times, then
            // resumed to the end.
            try? FileManager.default.removeItem(atPath: out)   // a .partial from before stays: create must cope
            var origins: [String: [Origin?]] = [:]
            var previous: DumpSnapshot?
            for step in 0..<chainLength where kill < kills {
                let remaining = previous.map { 1 - Double(doneCount($0)) / Double(rowsTotal) } ?? 1
                // The very first kill lands within 30 ms, before any layout can exist; a quarter of
                // the others within 300 ms (loading, planning, creating or reopening the layout:
                // about 0.2 s), the rest anywhere in what is left of the run after that.
                let early = kill == 0 || rng.uniform(below: 4) == 0
                let delay = kill == 0 ? Double(rng.uniform(below: 30_000)) / 1e6
                    : early ? Double(rng.uniform(below: 300_000)) / 1e6
                    : 0.2 + Double(rng.uniform(below: 1_000_000)) / 1e6 * 0.8 * fullRun * remaining
                let arguments = CaptureTool.runArguments(Self.options + (step == 0 ? [] : ["--resume"]), out: out)
                let running = try CaptureTool.start(arguments)
                usleep(useconds_t(delay * 1e6))
                Foundation.kill(running.process.processIdentifier, SIGKILL)
                let outcome = running.finish()
                kill += 1
                statistics.kills += 1
                let context = "kill \(kill) (seed \(seed), chain step \(step), \(early ? "early, " : "")after \(String(format: "%.3f", delay)) s)"
                if outcome.exited {
                    // It finished before the kill landed: then it must have succeeded.
                    XCTAssertTrue(outcome.succeeded, "\(context): \(outcome)")
                    statistics.finishedBeforeKill += 1
                }
                guard FileManager.default.fileExists(atPath: out) else {
                    XCTAssertNil(previous, "\(context): the dump vanished after an earlier run had committed it")
                    statistics.noFile += 1
                    statistics.doneAfterKill.append(0)
                    continue
                }
                let snapshot: DumpSnapshot
                do {
                    snapshot = try DumpSnapshot(path: out)
                } catch {
                    XCTFail("\(context): the dump does not open read-only: \(error)")
                    return
                }
                // A run that found no committed dump starts afresh and batches as the reference does.
                try verify(snapshot, against: reference, previous: previous, origins: &origins,
                           origin: previous == nil ? .fresh : .resumed, statistics: &statistics, context: context)
                try verifyChecksum(out, complete: doneCount(snapshot) == rowsTotal, context: context)
                statistics.doneAfterKill.append(doneCount(snapshot))
                previous = snapshot
                if doneCount(snapshot) == rowsTotal { break }   // nothing left to interrupt
                if testRun?.failureCount ?? 0 > 0 { break }
            }
            if testRun?.failureCount ?? 0 > 0 { break }
            // Resume to the end.
            let outcome = try CaptureTool.capture(Self.options + ["--resume"], out: out)
            XCTAssertTrue(outcome.succeeded, "resume after kill \(kill): \(outcome)")
            let completed = try DumpSnapshot(path: out)
            try verify(completed, against: reference, previous: previous, origins: &origins,
                       origin: previous == nil ? .fresh : .resumed, statistics: &statistics,
                       context: "after the final resume of the chain ending at kill \(kill)")
            XCTAssertEqual(doneCount(completed), rowsTotal, "the resumed dump is not complete")
            assertStaticDatasetsEqual(completed, reference, context: "completed dump")
            XCTAssertEqual(try DumpChecksum.verify(out), .verified(try SHA256.hexDigest(ofFile: out)),
                           "the completed dump has no valid checksum file")
        }
        let seconds = { (value: Double) in String(format: "%.2f", value) }
        print("kill -9 x \(statistics.kills) (seed \(seed)): reference run \(seconds(fullRun)) s, \(rowsTotal) rows; "
              + "no file after \(statistics.noFile) kills, \(statistics.finishedBeforeKill) runs finished first; "
              + "done rows after each kill \(statistics.doneAfterKill); rows compared bit for bit \(statistics.exactRows), "
              + "with tolerance \(statistics.tolerantRows) (\(statistics.tolerantRowsBitIdentical) of them bit-identical anyway, "
              + "worst relative difference \(statistics.worstRelative)); \(seconds(Date().timeIntervalSince(started))) s in all")
        XCTAssertGreaterThan(statistics.doneAfterKill.filter { $0 > 0 && $0 < rowsTotal }.count, kills / 4,
                             "too few kills landed mid-capture to test anything: \(statistics.doneAfterKill)")
        XCTAssertGreaterThan(statistics.noFile, 0, "no kill landed before the layout was committed")
    }

    /// An interrupted capture leaves no checksum file; one that is there matches the dump, which
    /// is then complete (the kill landed after the capture had finished writing).
    private func verifyChecksum(_ dump: String, complete: Bool, context: String) throws {
        switch try DumpChecksum.verify(dump) {
        case .absent: break
        case .verified: XCTAssertTrue(complete, "\(context): an incomplete dump has a checksum file")
        }
    }

    private func groups(of dump: DumpSnapshot) -> [String] {
        dump.groupNames(under: "/sets").map { "/sets/" + $0 } + dump.groupNames(under: "/probes").map { "/probes/" + $0 }
    }

    private func doneCount(_ dump: DumpSnapshot) -> Int {
        groups(of: dump).reduce(0) { $0 + (dump[$1 + "/done"]?.numbers.filter { $0 == 1 }.count ?? 0) }
    }

    private func assertStaticDatasetsEqual(_ dump: DumpSnapshot, _ reference: DumpSnapshot, context: String) {
        let captured = Set(capturedSetDatasets + DumpLayout.gradientDatasets + ["attention_pattern"])
        for (path, values) in reference.datasets where !captured.contains(String(path.split(separator: "/").last!)) {
            guard let mine = dump[path] else { XCTFail("\(context): \(path) missing"); continue }
            XCTAssertTrue(mine.identical(to: values), "\(context): \(path) differs from the reference")
        }
    }

    /// Checks every done row against the reference; rows done before must be unchanged.
    private func verify(_ dump: DumpSnapshot, against reference: DumpSnapshot, previous: DumpSnapshot?,
                        origins: inout [String: [Origin?]], origin: Origin, statistics: inout Statistics,
                        context: String) throws {
        XCTAssertEqual(groups(of: dump), groups(of: reference), context)
        if previous == nil { assertStaticDatasetsEqual(dump, reference, context: context) }
        for group in groups(of: reference) {
            let done = try dump.dataset(group + "/done").ints()
            let names = group.hasPrefix("/probes/") ? ["attention_pattern"]
                : capturedSetDatasets.filter { $0 != "done" } + DumpLayout.gradientDatasets.sorted()
            var rowOrigins = origins[group] ?? Array(repeating: nil, count: done.count)
            let previousDone = try previous?.dataset(group + "/done").ints()
            for row in done.indices {
                if let previousDone, previousDone[row] == 1 {
                    XCTAssertEqual(done[row], 1, "\(context): \(group) row \(row) was done and is not any more")
                }
                guard done[row] == 1 else {
                    XCTAssertTrue(done[row] == 0, "\(context): \(group) row \(row) has done = \(done[row])")
                    continue
                }
                if rowOrigins[row] == nil { rowOrigins[row] = origin }
                let exact = rowOrigins[row] == .fresh
                var bitIdentical = true
                for name in names {
                    let mine = try dump.dataset(group + "/" + name).row(row)
                    let theirs = try reference.dataset(group + "/" + name).row(row)
                    if let previous, previousDone?[row] == 1 {
                        let before = try previous.dataset(group + "/" + name).row(row)
                        XCTAssertTrue(mine.elementsEqual(before) { $0.bitPattern == $1.bitPattern },
                                      "\(context): \(group)/\(name) row \(row) changed after it was done")
                    }
                    if mine.elementsEqual(theirs, by: { $0.bitPattern == $1.bitPattern }) { continue }
                    bitIdentical = false
                    if exact {
                        XCTFail("\(context): \(group)/\(name) row \(row) is flagged done but differs from the reference: \(firstDifference(mine, theirs))")
                    } else if name == "argmax" || name == "top_ids" {
                        let logits = try reference.dataset(group + "/top_logits").row(row)
                        XCTAssertTrue(isNearTie(mine, theirs, logits: logits),
                                      "\(context): \(group)/\(name) row \(row) differs from the reference beyond a near tie: \(firstDifference(mine, theirs))")
                    } else {
                        let difference = relativeDifference(mine, theirs)
                        statistics.worstRelative = max(statistics.worstRelative, difference)
                        XCTAssertLessThan(difference, Self.tolerance,
                                          "\(context): \(group)/\(name) row \(row) (written by a resumed run) differs from the reference: \(firstDifference(mine, theirs))")
                    }
                }
                if previousDone?[row] != 1 {
                    if exact { statistics.exactRows += 1 } else {
                        statistics.tolerantRows += 1
                        if bitIdentical { statistics.tolerantRowsBitIdentical += 1 }
                    }
                }
            }
            origins[group] = rowOrigins
        }
    }

    /// Top-k ids that differ only where the reference's logits at the first differing rank
    /// and its neighbours are within the tolerance (a near tie the last bits may reorder).
    private func isNearTie(_ mine: ArraySlice<Double>, _ theirs: ArraySlice<Double>, logits: ArraySlice<Double>) -> Bool {
        let values = Array(logits)
        guard let rank = zip(mine, theirs).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset else { return true }
        let scale = max(abs(values.first ?? 1), 1)
        let neighbours = [rank - 1, rank + 1].filter { values.indices.contains($0) && $0 >= 0 }
        return neighbours.contains { abs(values[$0] - values[rank]) <= 1e-4 * scale } || rank == values.count - 1
    }
}
