import Analyze
import Foundation
import Shared
import TestSupport
import XCTest

/// Seeded corruptions of a small real dump, each read by `icl-analyze info` and `report` in a
/// child process: every run must end with exit status 0 or 1, never a signal or a hang, and a
/// failure is one line that names the file. (Where libhdf5 itself spins or faults on a damaged
/// file, the analyzer's HDF5 watchdog turns that into such a line; its limit is 5 s here.) With the
/// checksum file of the intact dump beside it, `check` must refuse every changed copy before
/// HDF5 reads it.
final class DumpFuzzTests: XCTestCase {
    static let corruptions = 200

    func testCorruptedDumpsNeverTrapAndFailWithOneLine() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dump-fuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let original = directory.appendingPathComponent("intact.h5").path
        try TinyCapture.write(to: original)
        try DumpChecksum.write(for: original)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: original)))
        let checksum = try String(contentsOfFile: DumpChecksum.path(for: original), encoding: .utf8)

        var generator = SplitMix64(seed: 0x1c1_f022)
        var outcomes: [String: Int] = [:]
        for i in 0..<Self.corruptions {
            var copy = bytes
            let kind = generator.uniform(below: 5)
            switch kind {
            case 0:   // one byte changed
                copy[generator.uniform(below: copy.count)] ^= UInt8(1 + generator.uniform(below: 255))
            case 1:   // a few bytes changed
                for _ in 0..<8 { copy[generator.uniform(below: copy.count)] = UInt8(generator.uniform(below: 256)) }
            case 2:   // a block zeroed
                let start = generator.uniform(below: copy.count - 64)
                for j in start..<(start + 64) { copy[j] = 0 }
            case 3:   // cut short
                copy.removeLast(1 + generator.uniform(below: copy.count - 1))
            default:  // a block copied over another
                let from = generator.uniform(below: copy.count - 256), to = generator.uniform(below: copy.count - 256)
                for j in 0..<256 { copy[to + j] = copy[from + j] }
            }
            let path = directory.appendingPathComponent("fuzz-\(i).h5").path
            try Data(copy).write(to: URL(fileURLWithPath: path))
            for command in [["info", path], ["report", path, "--out", path + ".report", "--random-sets", "2", "--bootstrap", "10"]] {
                let result = try CommandLineTool.run("icl-analyze", command, environment: ["ICL_HDF5_WATCHDOG_SECONDS": "5"])
                let what = "corruption \(i) (kind \(kind)), icl-analyze \(command[0])"
                XCTAssertTrue(result.status == 0 || result.status == 1, "\(what) ended with status \(result.status): \(result.standardError)")
                if result.status == 1 {
                    XCTAssertEqual(result.standardError.split(separator: "\n").count, 1, "\(what): not one line:\n\(result.standardError)")
                    XCTAssertTrue(result.standardError.contains(path), "\(what): the error does not name the file: \(result.standardError)")
                    XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".report"), "\(what): a failed report left its folder")
                }
                outcomes["\(command[0]) \(result.status)", default: 0] += 1
            }
            if copy != bytes {
                try checksum.replacingOccurrences(of: "intact.h5", with: "fuzz-\(i).h5")
                    .write(toFile: DumpChecksum.path(for: path), atomically: true, encoding: .utf8)
                let check = try CommandLineTool.run("icl-analyze", ["check", path])
                XCTAssertEqual(check.status, 1, "corruption \(i): check accepted a changed copy")
                XCTAssertTrue(check.standardError.contains("does not match its checksum"), "corruption \(i): \(check.standardError)")
            }
            try? FileManager.default.removeItem(atPath: path)
            try? FileManager.default.removeItem(atPath: DumpChecksum.path(for: path))
            try? FileManager.default.removeItem(atPath: path + ".report")
        }
        print("dump fuzz: \(Self.corruptions) corruptions; outcomes \(outcomes.sorted { $0.key < $1.key })")
    }
}
