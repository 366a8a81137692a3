import Foundation
import Shared
import XCTest

/// Failures surface as `InputError`s naming the file and, where there is one, the object.
final class HDF5ErrorTests: XCTestCase {
    func testNonHDF5FileIsAnInputErrorNamingTheFile() throws {
        let path = try temporaryHDF5Path("notes.h5")
        try Data("just some text, not HDF5\n".utf8).write(to: URL(fileURLWithPath: path))
        assertInputError(try HDF5File.open(path), file: path, contains: "cannot open as HDF5")
    }

    func testMissingFileIsAnInputError() throws {
        let path = try temporaryHDF5Path("absent.h5")
        assertInputError(try HDF5File.open(path), file: path, contains: "cannot open as HDF5")
    }

    func testTruncatedFileIsAnInputError() throws {
        let path = try temporaryHDF5Path("dump.h5")
        let file = try HDF5File.create(path)
        try file.createDataset("z", of: .float32, shape: [4096]).write([Float](repeating: 1, count: 4096))
        try file.close()
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: 3000)
        try handle.close()
        assertInputError(try HDF5File.open(path).openDataset("z").read(as: Float.self), file: path, contains: "truncated file")
    }

    func testMissingDatasetNamesFileAndPath() throws {
        let path = try temporaryHDF5Path("dump.h5")
        let file = try HDF5File.create(path)
        _ = try file.createGroup("sets/antonym")
        assertInputError(try file.openDataset("sets/antonym/z"), file: path, contains: "cannot open dataset /sets/antonym/z")
        let group = try file.openGroup("sets/antonym")
        assertInputError(try group.openDataset("z"), file: path, contains: "cannot open dataset /sets/antonym/z")
        assertInputError(try group.openGroup("deeper"), file: path, contains: "cannot open group /sets/antonym/deeper")
    }

    func testWritingToReadOnlyFileIsAnError() throws {
        let path = try temporaryHDF5Path()
        try HDF5File.create(path).createDataset("x", of: .int8, shape: [1]).write([Int8(1)])
        let reopened = try HDF5File.open(path)
        assertInputError(try reopened.openDataset("x").write([Int8(2)]), file: path, contains: "file is open read-only")
        assertInputError(try reopened.createGroup("g"), file: path, contains: "file is open read-only")
    }

    func testIntegersDoNotConvertToHalf() throws {
        let path = try temporaryHDF5Path()
        let dataset = try HDF5File.create(path).createDataset("h", of: .float16, shape: [1])
        assertInputError(try dataset.write([Int32(1)]), file: path, contains: "cannot convert between float16 and int32")
    }

    private func assertInputError<T>(_ expression: @autoclosure () throws -> T, file: String, contains text: String,
                                     line: UInt = #line) {
        XCTAssertThrowsError(try expression(), line: line) { error in
            guard let error = error as? InputError else { return XCTFail("not an InputError: \(error)", line: line) }
            XCTAssertEqual(error.file, file, line: line)
            XCTAssertTrue(error.problem.contains(text), "\(error)", line: line)
        }
    }
}
