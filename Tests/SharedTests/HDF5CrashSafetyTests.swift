import Foundation
import Shared
import XCTest

/// The streaming scheme of `HDF5File` under kill -9: a writer process (this test binary,
/// re-run on `testCrashWriterChild`) creates the full layout or resumes it read-write, then
/// writes rows and a done flag after each; it is killed at random moments, and after every
/// kill the file must open and each row flagged done must read back intact.
/// ICL_HDF5_CRASH_ROUNDS sets the number of kills (default 12).
final class HDF5CrashSafetyTests: XCTestCase {
    static let rows = 16384, width = 512
    static let writerVariable = "ICL_HDF5_CRASH_WRITER_FILE"

    func testKillNineLeavesEveryDoneRowIntact() throws {
        let executable = ProcessInfo.processInfo.arguments[0]
        guard executable.hasSuffix(".xctest") else { throw XCTSkip("needs to re-run the .xctest executable (Linux)") }
        let path = try temporaryHDF5Path("crash.h5")
        // Seeded, so a failing schedule of kill times can be replayed.
        var generator = SplitMix64(seed: 0x6b11_9)
        var doneCounts: [Int] = []
        let rounds = ProcessInfo.processInfo.environment["ICL_HDF5_CRASH_ROUNDS"].flatMap { Int($0) } ?? 12
        for round in 0..<rounds {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: executable)
            child.arguments = ["SharedTests.HDF5CrashSafetyTests/testCrashWriterChild"]
            child.environment = ProcessInfo.processInfo.environment.merging([Self.writerVariable: path]) { $1 }
            child.standardOutput = FileHandle.nullDevice
            child.standardError = FileHandle.nullDevice
            try child.run()
            // Some kills land around start-up and layout creation, most mid-stream.
            let delay = round % 4 == 0 ? 1 + generator.uniform(below: 150) : 100 + generator.uniform(below: 301)
            usleep(useconds_t(delay * 1000))
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            XCTAssertEqual(child.terminationReason, .uncaughtSignal, "round \(round): writer ended before the kill")
            doneCounts.append(try Self.verify(path, round: round))
        }
        print("kill -9 x \(rounds): done rows after each kill \(doneCounts)")
        XCTAssertGreaterThan(doneCounts.last ?? 0, 0, "the writer never got to write rows")
    }

    /// Opens the file read-only and checks every row flagged done; returns how many are.
    /// A file still under its temporary name is a layout killed before completion.
    static func verify(_ path: String, round: Int) throws -> Int {
        guard FileManager.default.fileExists(atPath: path) else { return 0 }
        let file = try HDF5File.open(path)
        defer { try? file.close() }
        let done = try file.openDataset("done").read(as: UInt8.self)
        let z = try file.openDataset("z"), residual = try file.openDataset("residual")
        for row in done.indices where done[row] == 1 {
            let slab = HDF5Hyperslab.rows(row..<row + 1, of: [rows, width])
            let (expectedZ, expectedResidual) = rowValues(row)
            if try z.read(as: Float.self, at: slab) != expectedZ || residual.read(as: Float.self, at: slab) != expectedResidual {
                XCTFail("round \(round): row \(row) is flagged done but does not read back intact")
            }
        }
        return done.filter { $0 == 1 }.count
    }

    /// Row r of z (float16) and residual (float32); never all zero, so an unwritten or torn
    /// row cannot pass for a written one.
    static func rowValues(_ row: Int) -> ([Float], [Float]) {
        let z = (0..<width).map { Float((row * 31 + $0 * 7) % 2001 - 1000) / 8 + 0.125 }
        return (z, z.map { $0 * 3 + Float(row) })
    }

    /// The writer. Runs only when started by the test above.
    func testCrashWriterChild() throws {
        guard let path = ProcessInfo.processInfo.environment[Self.writerVariable] else {
            throw XCTSkip("helper process of testKillNineLeavesEveryDoneRowIntact; runs only when started by it")
        }
        let file: HDF5File
        if FileManager.default.fileExists(atPath: path) {
            file = try HDF5File.open(path, mode: .readWrite)
        } else {
            file = try HDF5File.create(path, temporaryName: true)
            _ = try file.createDataset("z", of: .float16, shape: [Self.rows, Self.width])
            _ = try file.createDataset("residual", of: .float32, shape: [Self.rows, Self.width])
            _ = try file.createDataset("done", of: .uint8, shape: [Self.rows])
            try file.setAttribute("rows", Self.rows)
            try file.commitName()
        }
        let z = try file.openDataset("z"), residual = try file.openDataset("residual"), done = try file.openDataset("done")
        let flags = try done.read(as: UInt8.self)
        for row in flags.indices where flags[row] == 0 {
            let slab = HDF5Hyperslab.rows(row..<row + 1, of: [Self.rows, Self.width])
            let (zRow, residualRow) = Self.rowValues(row)
            try z.write(zRow, at: slab)
            try residual.write(residualRow, at: slab)
            try done.write([UInt8(1)], at: HDF5Hyperslab(start: [row], count: [1]))
            usleep(200)
        }
        // Every row done: wait for the kill so the parent's bookkeeping holds.
        while true { sleep(1) }
    }
}
