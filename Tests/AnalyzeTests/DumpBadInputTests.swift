import Analyze
import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// Damaged, foreign and mismatched dumps, tried as a new user would: one line naming the file
/// and the problem, exit status 1, no trap, and nothing half-written in a report folder.
final class DumpBadInputTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("analyze-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// A copy of a small real capture (tiny Llama 3 fixture model).
    private func copy(_ name: String, shard: Shard = .whole) throws -> String {
        let target = path(name)
        try TinyCapture.write(to: target, shard: shard)
        return target
    }

    private func analyze(_ arguments: [String]) throws -> CommandLineTool.Result {
        let result = try CommandLineTool.run("icl-analyze", arguments)
        XCTAssertNotEqual(result.status, 0, "icl-analyze \(arguments.joined(separator: " ")) succeeded:\n\(result.standardOutput)")
        XCTAssertEqual(result.status, 1, "not a clean failure: \(result.standardError)")
        let lines = result.standardError.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "expected one error line:\n\(result.standardError)")
        return result
    }

    /// `info` refuses `paths` with one line that names `culprit` and says `problem`.
    private func assertRefused(_ paths: [String], culprit: String, problem: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try analyze(["info"] + paths)
        XCTAssertTrue(result.standardError.contains(culprit), "does not name \(culprit): \(result.standardError)", file: file, line: line)
        XCTAssertTrue(result.standardError.contains(problem), "does not say \(problem): \(result.standardError)", file: file, line: line)
    }

    private func setRootAttribute(_ path: String, _ name: String, _ value: String) throws {
        let file = try HDF5File.open(path, mode: .readWrite)
        try file.setAttribute(name, value)
        try file.close()
    }

    private func firstSet(_ path: String) throws -> String {
        let file = try HDF5File.open(path)
        defer { try? file.close() }
        return try file.openGroup("sets").members(.group).map(\.name).sorted()[0]
    }

    /// /model's final_norm_kind (format 1.3) decides how direct effects are computed: an unknown
    /// kind, or a LayerNorm without its bias, is refused instead of scored with the wrong formula.
    func testAFinalNormKindThatDoesNotMatchTheStoredWeightsIsRefused() throws {
        for (kind, problem) in [("batch", "final_norm_kind is \"batch\""), ("layer", "final_norm_bias is missing for a LayerNorm")] {
            let dump = try copy("norm-\(kind).h5")
            let file = try HDF5File.open(dump, mode: .readWrite)
            try file.openGroup("model").setAttribute("final_norm_kind", kind)
            try file.close()
            let result = try analyze(["report", dump, "--out", path("report-\(kind)")])
            XCTAssertTrue(result.standardError.contains(dump) && result.standardError.contains(problem), result.standardError)
        }
    }

    func testShardAttributesThatCannotBeParsedOrDoNotMatchTheRowsAreRefused() throws {
        let dump = try copy("d.h5")
        try setRootAttribute(dump, "shard", "0/-1")
        try assertRefused([dump], culprit: dump, problem: "shard")
        try setRootAttribute(dump, "shard", "1/2")
        try assertRefused([dump], culprit: dump, problem: "belongs to shard 0/2")
    }

    func testShardMixesThatWouldCountPromptsTwiceAreRefused() throws {
        let whole = try copy("whole.h5")
        let half0 = try copy("half0.h5", shard: try Shard(parsing: "0/2"))
        let half1 = try copy("half1.h5", shard: try Shard(parsing: "1/2"))
        let third0 = try copy("third0.h5", shard: try Shard(parsing: "0/3"))
        try assertRefused([whole, half0], culprit: half0, problem: "share their count")
        try assertRefused([half0, third0], culprit: third0, problem: "share their count")
        try assertRefused([half1, half0, whole], culprit: whole, problem: "share their count")
        // A whole capture relabelled as shard 0/2 holds prompts of shard 1/2 too.
        let relabelled = try copy("relabelled.h5")
        try setRootAttribute(relabelled, "shard", "0/2")
        try assertRefused([relabelled, half1], culprit: relabelled, problem: "belongs to shard 1/2")
    }

    func testDoneFlagsOtherThanZeroOrOneAreRefused() throws {
        let dump = try copy("d.h5")
        let set = try firstSet(dump)
        for value: UInt8 in [2, 255] {
            let file = try HDF5File.open(dump, mode: .readWrite)
            let done = try file.openDataset("sets/\(set)/done")
            var flags = try done.read(as: UInt8.self)
            flags[1] = value
            try done.write(flags)
            try file.close()
            try assertRefused([dump], culprit: dump, problem: "done flags are 0 or 1")
        }
    }

    func testNonFiniteValuesInDoneRowsAreRefusedNamingTheRow() throws {
        let dump = try copy("d.h5")
        let set = try firstSet(dump)
        let file = try HDF5File.open(dump, mode: .readWrite)
        let logprob = try file.openDataset("sets/\(set)/gold_logprob")
        var values = try logprob.read(as: Float.self)
        values[0] = .nan
        try logprob.write(values)
        try file.close()
        try assertRefused([dump], culprit: dump, problem: "gold_logprob is nan")
        let json = try analyze(["info", dump, "--json"])
        XCTAssertTrue(json.standardError.contains(dump), json.standardError)
    }

    func testUnknownFormatVersionsAreRefused() throws {
        let dump = try copy("d.h5")
        for version in ["2.0", "one", "1", ""] {
            try setRootAttribute(dump, "format_version", version)
            try assertRefused([dump], culprit: dump, problem: "format version")
        }
    }

    /// Datasets of the wrong shape or type, made with h5py as another tool would.
    func testMisshapenOrMistypedDatasetsAreRefusedBeforeTheyAreRead() throws {
        guard let python = PythonStack.find() else {
            throw XCTSkip("no Python with h5py (set PYTHON=/path/to/python, or run scripts/setup-python-tests)")
        }
        let dump = try copy("base.h5")
        let set = try firstSet(dump)
        let cases: [(String, String, String)] = [
            ("z-shape", "replace(f, 'sets/\(set)/z', np.zeros(f['sets/\(set)/z'].shape[:-1] + (3,), 'f4'))", "/sets/\(set)/z has shape"),
            ("z-dtype", "replace(f, 'sets/\(set)/z', f['sets/\(set)/z'][:].astype('f8'))", "/sets/\(set)/z holds float64"),
            ("wo-half", "replace(f, 'model/W_O', f['model/W_O'][:].astype('f2'))", "/model/W_O holds float16"),
            ("gold-rows", "replace(f, 'sets/\(set)/gold_token', f['sets/\(set)/gold_token'][:-1])", "/sets/\(set)/gold_token has shape"),
            ("logprob-rows", "replace(f, 'sets/\(set)/gold_logprob', f['sets/\(set)/gold_logprob'][:-1])", "/sets/\(set)/gold_logprob has shape"),
            ("missing", "del f['sets/\(set)/attention']", "/sets/\(set)/attention is missing"),
        ]
        for (name, edit, problem) in cases {
            let target = path("\(name).h5")
            try FileManager.default.copyItem(atPath: dump, toPath: target)
            let script = """
                import h5py, numpy as np, sys
                def replace(f, name, data):
                    del f[name]
                    f.create_dataset(name, data=data)
                with h5py.File(sys.argv[1], 'r+') as f:
                    \(edit)
                """
            let result = PythonStack.run(python, ["-c", script, target])
            XCTAssertEqual(result.status, 0, result.output)
            try assertRefused([target], culprit: target, problem: problem)
        }
    }

    func testTruncatedAndForeignFilesAreRefused() throws {
        let dump = try copy("d.h5")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: dump))
        for fraction in [0.1, 0.5, 0.9, 0.999] {
            let target = path("cut-\(fraction).h5")
            try bytes.prefix(Int(Double(bytes.count) * fraction)).write(to: URL(fileURLWithPath: target))
            let result = try analyze(["report", target, "--out", path("cut-report")])
            XCTAssertTrue(result.standardError.contains(target), result.standardError)
            XCTAssertFalse(FileManager.default.fileExists(atPath: path("cut-report")), "a failed report left its folder")
        }
        let text = path("notes.h5")
        try Data("not hdf5".utf8).write(to: URL(fileURLWithPath: text))
        try assertRefused([text], culprit: text, problem: "HDF5")
        try assertRefused([path("absent.h5")], culprit: path("absent.h5"), problem: "does not exist")
        try assertRefused([""], culprit: "error: ", problem: "the dump path is empty")
    }

    func testAFileGivenTwiceIsRefused() throws {
        let dump = try copy("d.h5")
        try assertRefused([dump, dump], culprit: dump, problem: "given twice")
    }

    func testEmptySetsAndUnknownHeadsAreOneLineErrorsAndLeaveNoReport() throws {
        let dump = try copy("d.h5")
        let heads = path("heads.json")
        try Data(#"{"heads": [[0, 0], [99, 1]]}"#.utf8).write(to: URL(fileURLWithPath: heads))
        let result = try analyze(["report", dump, "--out", path("r1"), "--heads-file", heads])
        XCTAssertTrue(result.standardError.contains("names head L99H1"), result.standardError)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("r1")))

        let set = try firstSet(dump)
        let file = try HDF5File.open(dump, mode: .readWrite)
        let done = try file.openDataset("sets/\(set)/done")
        try done.write([UInt8](repeating: 0, count: done.elementCount))
        try file.close()
        let empty = try analyze(["report", dump, "--out", path("r2")])
        XCTAssertTrue(empty.standardError.contains("no finished prompt"), empty.standardError)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("r2")))
        let info = try CommandLineTool.run("icl-analyze", ["info", dump])
        XCTAssertEqual(info.status, 0, "info should summarise a partial capture: \(info.standardError)")
        XCTAssertTrue(info.standardOutput.contains("0/"), info.standardOutput)
    }
}
