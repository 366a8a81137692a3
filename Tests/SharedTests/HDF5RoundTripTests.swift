import Foundation
import Shared
import Synchronization
import XCTest

final class HDF5RoundTripTests: XCTestCase {
    func testEveryElementTypeRoundTrips() throws {
        let path = try temporaryHDF5Path()
        let file = try HDF5File.create(path)
        // [2, 3]
        try file.createDataset("f16", of: .float16, shape: [2, 3]).write([Float16(-1.5), 0, 1, 2.25, 65504, -0.0009765625])
        try file.createDataset("f32", of: .float32, shape: [2, 3]).write([Float(-1.5), 0, .pi, 1e-30, .greatestFiniteMagnitude, -7])
        try file.createDataset("f64", of: .float64, shape: [2, 3]).write([Double.pi, -1e300, 0, 1, 2, 3])
        try file.createDataset("i8", of: .int8, shape: [2, 3]).write([Int8.min, -1, 0, 1, 2, .max])
        try file.createDataset("u8", of: .uint8, shape: [2, 3]).write([UInt8(0), 1, 2, 128, 254, 255])
        try file.createDataset("i32", of: .int32, shape: [2, 3]).write([Int32.min, -1, 0, 1, 2, .max])
        try file.createDataset("i64", of: .int64, shape: [2, 3]).write([Int64.min, -1, 0, 1, 2, .max])
        try file.close()

        let reopened = try HDF5File.open(path)
        let expectedTypes: [String: HDF5ElementType] = [
            "f16": .float16, "f32": .float32, "f64": .float64, "i8": .int8, "u8": .uint8, "i32": .int32, "i64": .int64,
        ]
        for (name, type) in expectedTypes {
            let dataset = try reopened.openDataset(name)
            XCTAssertEqual(dataset.elementType, type, name)
            XCTAssertEqual(dataset.shape, [2, 3], name)
        }
        XCTAssertEqual(try reopened.openDataset("f16").read(as: Float16.self), [-1.5, 0, 1, 2.25, 65504, -0.0009765625])
        XCTAssertEqual(try reopened.openDataset("f32").read(as: Float.self), [-1.5, 0, .pi, 1e-30, .greatestFiniteMagnitude, -7])
        XCTAssertEqual(try reopened.openDataset("f64").read(as: Double.self), [.pi, -1e300, 0, 1, 2, 3])
        XCTAssertEqual(try reopened.openDataset("i8").read(as: Int8.self), [.min, -1, 0, 1, 2, .max])
        XCTAssertEqual(try reopened.openDataset("u8").read(as: UInt8.self), [0, 1, 2, 128, 254, 255])
        XCTAssertEqual(try reopened.openDataset("i32").read(as: Int32.self), [.min, -1, 0, 1, 2, .max])
        XCTAssertEqual(try reopened.openDataset("i64").read(as: Int64.self), [.min, -1, 0, 1, 2, .max])
    }

    func testFloatsReadFromEveryFloatingType() throws {
        let path = try temporaryHDF5Path()
        let file = try HDF5File.create(path)
        let values: [Float] = [0.5, -2, 1024, 3.25]
        for type in [HDF5ElementType.float16, .float32, .float64] {
            try file.createDataset("\(type)", of: type, shape: [4]).write(values)
        }
        try file.createDataset("i32", of: .int32, shape: [4]).write([Int32(1), -2, 3, 4])
        for type in ["float16", "float32", "float64"] {
            XCTAssertEqual(try file.openDataset(type).read(as: Float.self), values, type)
            XCTAssertEqual(try file.openDataset(type).read(as: Double.self), values.map(Double.init), type)
            XCTAssertEqual(try file.openDataset(type).read(as: Float16.self), values.map { Float16($0) }, type)
        }
        XCTAssertEqual(try file.openDataset("i32").read(as: Float.self), [1, -2, 3, 4])
        XCTAssertEqual(try file.openDataset("i32").read(as: Float16.self), [1, -2, 3, 4])
    }

    /// Rows written one hyperslab at a time, in scrambled order, read back whole and as
    /// inner blocks.
    func testHyperslabWritesAndReads() throws {
        let path = try temporaryHDF5Path()
        let file = try HDF5File.create(path)
        let shape = [5, 3, 4]
        let z = try file.createDataset("z", of: .float32, shape: shape)
        let value = { (i: Int, j: Int, k: Int) in Float(i * 100 + j * 10 + k) }
        for i in [3, 0, 4, 1, 2] {
            let row = (0..<3).flatMap { j in (0..<4).map { k in value(i, j, k) } }
            try z.write(row, at: .rows(i..<i + 1, of: shape))
        }
        let all = try z.read(as: Float.self)
        XCTAssertEqual(all.count, 60)
        XCTAssertEqual(all[2 * 12 + 1 * 4 + 3], value(2, 1, 3))

        let block = HDF5Hyperslab(start: [1, 1, 2], count: [2, 2, 2])
        let expected = (1..<3).flatMap { i in (1..<3).flatMap { j in (2..<4).map { k in value(i, j, k) } } }
        XCTAssertEqual(try z.read(as: Float.self, at: block), expected)

        var buffer = [Float](repeating: 0, count: 8)
        try buffer.withUnsafeMutableBufferPointer { try z.read(into: $0, at: block) }
        XCTAssertEqual(buffer, expected)

        try [Float](repeating: -1, count: 8).withUnsafeBufferPointer { try z.write($0, at: block) }
        XCTAssertEqual(try z.read(as: Float.self, at: block), [Float](repeating: -1, count: 8))
        XCTAssertEqual(try z.read(as: Float.self, at: .rows(0..<1, of: shape))[0], value(0, 0, 0))
    }

    func testHyperslabOutsideTheDatasetIsAnError() throws {
        let path = try temporaryHDF5Path()
        let z = try HDF5File.create(path).createDataset("z", of: .float32, shape: [2, 2])
        XCTAssertThrowsError(try z.write([Float](repeating: 0, count: 2), at: HDF5Hyperslab(start: [2, 0], count: [1, 2]))) {
            XCTAssertTrue("\($0)".contains("outside dataset /z"), "\($0)")
        }
        XCTAssertThrowsError(try z.write([Float](repeating: 0, count: 3))) {
            XCTAssertTrue("\($0)".contains("cannot write 3 values"), "\($0)")
        }
        XCTAssertThrowsError(try z.read(as: Float.self, at: HDF5Hyperslab(start: [0], count: [1])))
    }

    func testScalarAndEmptyDatasets() throws {
        let path = try temporaryHDF5Path()
        let file = try HDF5File.create(path)
        try file.createDataset("scalar", of: .float64, shape: []).write([2.5])
        _ = try file.createDataset("empty", of: .float16, shape: [0, 4])
        XCTAssertEqual(try file.openDataset("scalar").shape, [])
        XCTAssertEqual(try file.openDataset("scalar").read(as: Double.self), [2.5])
        XCTAssertEqual(try file.openDataset("empty").read(as: Float.self), [])
    }

    /// Several threads each using their own file, errors included (whose messages come from
    /// HDF5's error stack, global in builds without thread safety). Debian's libhdf5 is built
    /// thread-safe; the layer's own lock covers builds that are not.
    func testConcurrentUseOfSeparateFiles() throws {
        let directory = URL(fileURLWithPath: try temporaryHDF5Path()).deletingLastPathComponent().path
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { index in
            do {
                let path = "\(directory)/thread\(index).h5"
                let file = try HDF5File.create(path)
                let values = (0..<4096).map { Float($0 + index) }
                let dataset = try file.createDataset("sets/\(index)/x", of: .float16, shape: [64, 64])
                for row in 0..<64 {
                    let slab = HDF5Hyperslab.rows(row..<row + 1, of: [64, 64])
                    try dataset.write(Array(values[row * 64..<(row + 1) * 64]), at: slab)
                    _ = try dataset.read(as: Float.self, at: slab)
                    try dataset.setAttribute("row", row)
                    _ = try file.openGroup("sets/\(index)").members()
                    XCTAssertThrowsError(try file.openDataset("missing\(row)")) {
                        XCTAssertTrue("\($0)".hasSuffix("cannot open dataset /missing\(row) (object 'missing\(row)' doesn't exist)"))
                    }
                }
                try file.setAttribute("index", index)
                try file.close()
                let reopened = try HDF5File.open(path)
                let back = try reopened.openDataset("sets/\(index)/x").read(as: Float.self)
                let storedIndex = try reopened.attribute("index", as: Int.self)
                if back != values.map({ Float(Float16($0)) }) || storedIndex != index {
                    failures.withLock { $0.append("thread \(index): wrong values") }
                }
            } catch {
                failures.withLock { $0.append("thread \(index): \(error)") }
            }
        }
        XCTAssertEqual(failures.withLock { $0 }, [])
    }

    /// Debian's libhdf5 keeps error printing per thread: a failure on any thread is an error
    /// value, with nothing from HDF5 on stderr.
    func testFailuresOnAnyThreadPrintNothing() throws {
        let path = try temporaryHDF5Path()
        try HDF5File.create(path).close()
        let log = path + ".stderr"
        FileManager.default.createFile(atPath: log, contents: nil)
        let saved = dup(2), target = open(log, O_WRONLY)
        dup2(target, 2)
        // New threads, none of which has called HDF5 before.
        let done = DispatchSemaphore(value: 0), failed = Mutex(0)
        for _ in 0..<4 {
            Thread {
                if let file = try? HDF5File.open(path) {
                    if (try? file.openDataset("absent")) == nil { failed.withLock { $0 += 1 } }
                    try? file.close()
                }
                done.signal()
            }.start()
        }
        for _ in 0..<4 { done.wait() }
        dup2(saved, 2)
        close(target)
        close(saved)
        let printed = try String(contentsOfFile: log, encoding: .utf8)
        XCTAssertEqual(failed.withLock { $0 }, 4)
        XCTAssertFalse(printed.contains("HDF5-DIAG"), printed)
    }

    func testStringDatasets() throws {
        let path = try temporaryHDF5Path()
        let file = try HDF5File.create(path)
        let words = ["hot", "cold", "naïve", "", "日本語"]
        let variable = try file.createDataset("words", of: .variableLengthString, shape: [5])
        try variable.writeStrings(words)
        let fixed = try file.createDataset("fixed", of: .fixedLengthString(bytes: 9), shape: [5])
        try fixed.writeStrings(Array(words.prefix(3)))
        try fixed.writeStrings(Array(words.suffix(2)), start: 3)
        XCTAssertThrowsError(try fixed.writeStrings(["ten bytes!"])) {
            XCTAssertTrue("\($0)".contains("does not fit 9-byte elements of /fixed"), "\($0)")
        }
        try file.close()

        let reopened = try HDF5File.open(path)
        XCTAssertEqual(try reopened.openDataset("words").elementType, .variableLengthString)
        XCTAssertEqual(try reopened.openDataset("fixed").elementType, .fixedLengthString(bytes: 9))
        XCTAssertEqual(try reopened.openDataset("words").readStrings(), words)
        XCTAssertEqual(try reopened.openDataset("fixed").readStrings(), words)
        XCTAssertEqual(try reopened.openDataset("words").readStrings(start: 1, count: 2), ["cold", "naïve"])
        XCTAssertThrowsError(try reopened.openDataset("words").read(as: Float.self))
    }

    func testCompressedDatasetRoundTripsAndIsSmaller() throws {
        let path = try temporaryHDF5Path()
        let file = try HDF5File.create(path)
        let values = (0..<65536).map { Float($0 % 64) }
        try file.createDataset("packed", of: .float32, shape: [256, 256], layout: .compressed(chunk: [64, 256])).write(values)
        try file.close()
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        XCTAssertLessThan(size, values.count * 4 / 4)
        XCTAssertEqual(try HDF5File.open(path).openDataset("packed").read(as: Float.self), values)
        XCTAssertThrowsError(try HDF5File.create(path).createDataset("bad", of: .float32, shape: [4], layout: .compressed(chunk: [8, 8])))
    }

    func testTemporaryNameIsCommittedAfterFlush() throws {
        let path = try temporaryHDF5Path()
        let file = try HDF5File.create(path, temporaryName: true)
        XCTAssertEqual(file.path, path + ".partial")
        try file.createDataset("done", of: .uint8, shape: [3]).write([UInt8(0), 0, 0])
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        try file.commitName()
        XCTAssertEqual(file.path, path)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".partial"))
        try file.openDataset("done").write([UInt8(1)], at: HDF5Hyperslab(start: [1], count: [1]))
        try file.close()

        let resumed = try HDF5File.open(path, mode: .readWrite)
        try resumed.openDataset("done").write([UInt8(1)], at: HDF5Hyperslab(start: [2], count: [1]))
        try resumed.close()
        XCTAssertEqual(try HDF5File.open(path).openDataset("done").read(as: UInt8.self), [0, 1, 1])
    }

    func testCloseInvalidatesOpenHandles() throws {
        let path = try temporaryHDF5Path()
        let file = try HDF5File.create(path)
        let group = try file.createGroup("g")
        let dataset = try group.createDataset("x", of: .int32, shape: [1])
        try file.close()
        try file.close()
        XCTAssertFalse(file.isOpen)
        XCTAssertThrowsError(try dataset.read(as: Int32.self)) { XCTAssertTrue("\($0)".hasSuffix("file is closed"), "\($0)") }
        XCTAssertThrowsError(try group.members())
        // Closed for real: another handle can open it exclusively for writing.
        XCTAssertNoThrow(try HDF5File.open(path, mode: .readWrite).close())
    }
}

/// A fresh path in a per-test temporary directory, removed when the test ends.
extension XCTestCase {
    func temporaryHDF5Path(_ name: String = "test.h5") throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hdf5-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        return directory.appendingPathComponent(name).path
    }
}
