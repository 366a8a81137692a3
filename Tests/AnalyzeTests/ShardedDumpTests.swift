import Analyze
import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// Reading the shards of one capture as one dump, and refusing files that do not belong together.
final class ShardedDumpTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("analyze-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func testShardsReadAsOneDumpGiveTheWholeCapturesSummary() throws {
        try TinyCapture.write(to: path("whole.h5"))
        try TinyCapture.write(to: path("s0.h5"), shard: try Shard(parsing: "0/2"))
        try TinyCapture.write(to: path("s1.h5"), shard: try Shard(parsing: "1/2"))
        let whole = try SetSummary.summarize(try ShardedDump(paths: [path("whole.h5")]))
        let sharded = try ShardedDump(paths: [path("s1.h5"), path("s0.h5")])
        XCTAssertEqual(sharded.missingShards, [])
        let combined = try SetSummary.summarize(sharded)
        XCTAssertEqual(combined.map(\.name), whole.map(\.name))
        for (a, b) in zip(combined, whole) {
            XCTAssertEqual(a.prompts, b.prompts, a.name)
            XCTAssertEqual(a.done, b.done, a.name)
            XCTAssertEqual(a.accuracy, b.accuracy, accuracy: 1e-12, a.name)
            XCTAssertEqual(a.meanGoldLogprob, b.meanGoldLogprob, accuracy: 1e-5, a.name)
        }
        let indices = try SetRows(dump: sharded, set: whole[0].name).promptIndex.map(Int.init)
        XCTAssertEqual(indices, Array(0..<whole[0].prompts))
        XCTAssertEqual(try ShardedDump(paths: [path("s0.h5")]).missingShards, ["1/2"])
    }

    func testSummaryCountsWhatTheDumpSays() throws {
        try TinyCapture.write(to: path("d.h5"))
        let dump = try ShardedDump(paths: [path("d.h5")])
        let file = try HDF5File.open(path("d.h5"))
        for summary in try SetSummary.summarize(dump) {
            let group = "sets/\(summary.name)/"
            let argmax = try file.openDataset(group + "argmax").read(as: Int32.self)
            let gold = try file.openDataset(group + "gold_token").read(as: Int32.self)
            XCTAssertEqual(summary.done, argmax.count)
            XCTAssertEqual(summary.accuracy, Double(zip(argmax, gold).filter { $0 == $1 }.count) / Double(argmax.count), accuracy: 1e-12)
            XCTAssertEqual(summary.labelSetRatio == nil, summary.taskKind == "open", summary.name)
        }
    }

    func testFilesThatDoNotBelongTogetherAreRefused() throws {
        try TinyCapture.write(to: path("a.h5"), shard: try Shard(parsing: "0/2"))
        try TinyCapture.write(to: path("other-model.h5"), shard: try Shard(parsing: "1/2"), modelSHA256: "1")
        try TinyCapture.write(to: path("other-seed.h5"), configuration: TinyCapture.configuration(seed: 6),
                              shard: try Shard(parsing: "1/2"))
        func refusal(_ paths: [String]) -> InputError? {
            do { _ = try ShardedDump(paths: paths); return nil } catch { return error as? InputError }
        }
        XCTAssertTrue(refusal([path("a.h5"), path("other-model.h5")])?.problem.contains("another model") == true)
        XCTAssertTrue(refusal([path("a.h5"), path("other-seed.h5")])?.problem.contains("other options") == true)
        XCTAssertTrue(refusal([path("a.h5"), path("a.h5")])?.problem.contains("is given twice") == true)
    }

    func testForeignAndBrokenFilesAreRefusedNamingTheFile() throws {
        let plain = path("plain.h5")
        try HDF5File.create(plain).close()
        XCTAssertThrowsError(try DumpFile(path: plain)) { XCTAssertEqual(($0 as? InputError)?.file, plain) }
        let text = path("notes.h5")
        try Data("not hdf5".utf8).write(to: URL(fileURLWithPath: text))
        XCTAssertThrowsError(try DumpFile(path: text)) { XCTAssertEqual(($0 as? InputError)?.file, text) }
    }
}
