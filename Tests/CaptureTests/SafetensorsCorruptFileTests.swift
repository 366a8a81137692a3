import Capture
import Foundation
import Shared
import XCTest

/// Safetensors bytes assembled by hand, so that tests can write files no correct writer produces.
enum SafetensorsBytes {
    /// An 8-byte little-endian length (the header's, unless `declaredLength` overrides it), the
    /// header text, then `data`.
    static func file(header: String, data: [UInt8] = [], declaredLength: UInt64? = nil) -> Data {
        let headerBytes = Array(header.utf8)
        var bytes = Data()
        withUnsafeBytes(of: (declaredLength ?? UInt64(headerBytes.count)).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: headerBytes)
        bytes.append(contentsOf: data)
        return bytes
    }

    /// One header entry's JSON.
    static func entry(_ name: String, _ dtype: String, _ shape: [Int], _ begin: Int, _ end: Int) -> String {
        "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":[\(begin),\(end)]}"
    }

    /// A well-formed file with a 2x2 F32 tensor, a 3-element F16 tensor and a 2-element I64 tensor.
    static func valid() -> Data {
        let header = "{" + [
            "\"__metadata__\":{\"format\":\"pt\"}",
            entry("weight", "F32", [2, 2], 0, 16),
            entry("half", "F16", [3], 16, 22),
            entry("ids", "I64", [2], 22, 38),
        ].joined(separator: ",") + "}"
        var data: [UInt8] = []
        for value: Float in [1, -2, 0.5, 3] { withUnsafeBytes(of: value.bitPattern.littleEndian) { data += $0 } }
        for bits: UInt16 in [0x3C00, 0xC000, 0x0001] { withUnsafeBytes(of: bits.littleEndian) { data += $0 } }
        for value: Int64 in [5, -7] { withUnsafeBytes(of: value.littleEndian) { data += $0 } }
        return file(header: header, data: data)
    }
}

/// A fresh directory under the system's temporary directory, removed when released.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("safetensors-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }

    /// Writes `data` to `name` in this directory (atomically, so a new file replaces an old one
    /// rather than changing it under a live mapping) and returns its path.
    @discardableResult
    func write(_ data: Data, to name: String) throws -> String {
        let file = url.appendingPathComponent(name)
        try data.write(to: file, options: .atomic)
        return file.path
    }
}

/// Asserts that `body` throws an InputError naming `file` whose problem mentions every fragment.
func assertInputError<T>(_ body: @autoclosure () throws -> T, file expectedFile: String, mentions fragments: [String],
                         _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try body(), message, file: file, line: line) { error in
        guard let inputError = error as? InputError else {
            return XCTFail("\(error) is not an InputError \(message)", file: file, line: line)
        }
        XCTAssertEqual(inputError.file, expectedFile, message, file: file, line: line)
        for fragment in fragments {
            XCTAssertTrue(inputError.problem.contains(fragment),
                          "\"\(inputError.problem)\" does not mention \"\(fragment)\" \(message)", file: file, line: line)
        }
    }
}

final class SafetensorsCorruptFileTests: XCTestCase {
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory()
    }

    override func tearDown() {
        directory = nil
    }

    private func assertRejected(_ data: Data, mentions fragments: [String],
                                file: StaticString = #filePath, line: UInt = #line) throws {
        let path = try directory.write(data, to: "corrupt.safetensors")
        assertInputError(try SafetensorsFile(path: path), file: path, mentions: fragments, file: file, line: line)
    }

    private func header(_ entries: String...) -> String { "{" + entries.joined(separator: ",") + "}" }

    func testTheHandBuiltValidFileOpens() throws {
        let path = try directory.write(SafetensorsBytes.valid(), to: "valid.safetensors")
        let file = try SafetensorsFile(path: path)
        XCTAssertEqual(try file.floats("weight"), [1, -2, 0.5, 3])
        XCTAssertEqual(try file.floats("half"), [1, -2, Float(bitPattern: 0x3380_0000)])
        XCTAssertEqual(try file.int32s("ids"), [5, -7])
        XCTAssertEqual(file.metadata, ["format": "pt"])
    }

    func testFilesShorterThanTheLengthFieldAreRejected() throws {
        try assertRejected(Data(), mentions: ["0 bytes", "too short"])
        try assertRejected(Data([1, 2, 3, 4, 5]), mentions: ["5 bytes", "too short"])
    }

    func testHeaderLengthsBeyondTheFileOrAbsurdAreRejected() throws {
        try assertRejected(SafetensorsBytes.file(header: "{}", declaredLength: 3), mentions: ["header length 3", "past the end"])
        try assertRejected(SafetensorsBytes.file(header: "{}", declaredLength: 200_000_000), mentions: ["200000000"])
        try assertRejected(SafetensorsBytes.file(header: "{}", declaredLength: .max), mentions: ["\(UInt64.max)"])
    }

    func testHeadersThatAreNotJSONObjectsAreRejected() throws {
        try assertRejected(SafetensorsBytes.file(header: "{\"a\":"), mentions: ["not valid JSON"])
        try assertRejected(SafetensorsBytes.file(header: "[1,2]"), mentions: ["not a JSON object"])
        try assertRejected(SafetensorsBytes.file(header: "\u{FF}"), mentions: ["not valid JSON"])
        try assertRejected(SafetensorsBytes.file(header: String(repeating: "[", count: 100_000)), mentions: ["JSON"])
        try assertRejected(SafetensorsBytes.file(header: "{\"w\":" + String(repeating: "{\"a\":", count: 100_000)),
                           mentions: ["JSON"])
    }

    func testEntriesWithMissingOrMistypedFieldsAreRejectedNamingTheTensor() throws {
        try assertRejected(SafetensorsBytes.file(header: header("\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}"),
                                                 data: [0, 0, 0, 0]), mentions: ["\"w\"", "dtype"])
        try assertRejected(SafetensorsBytes.file(header: header("\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}"),
                                                 data: [0, 0, 0, 0]), mentions: ["\"w\"", "shape"])
        try assertRejected(SafetensorsBytes.file(header: header("\"w\":{\"dtype\":\"F32\",\"shape\":[1]}"),
                                                 data: [0, 0, 0, 0]), mentions: ["\"w\"", "data_offsets"])
        try assertRejected(SafetensorsBytes.file(header: header("\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}"),
                                                 data: [0, 0, 0, 0]), mentions: ["\"w\"", "shape"])
        try assertRejected(SafetensorsBytes.file(header: header("\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,1e400]}"),
                                                 data: [0, 0, 0, 0]), mentions: ["\"w\""])
        try assertRejected(SafetensorsBytes.file(header: header("\"w\":7")), mentions: ["\"w\""])
        try assertRejected(SafetensorsBytes.file(header: header("\"__metadata__\":{\"n\":1}")), mentions: ["__metadata__"])
    }

    func testUnsupportedDtypesAreRejectedNamingTheTensor() throws {
        for dtype in ["F64", "BOOL", "U8", "F8_E4M3", "f32"] {
            try assertRejected(SafetensorsBytes.file(header: header(SafetensorsBytes.entry("w", dtype, [1], 0, 8)),
                                                     data: Array(repeating: 0, count: 8)),
                               mentions: ["\"w\"", "unsupported dtype \"\(dtype)\""])
        }
    }

    func testNegativeAndOverflowingShapesAreRejected() throws {
        try assertRejected(SafetensorsBytes.file(header: header(SafetensorsBytes.entry("w", "F32", [2, -2], 0, 16)),
                                                 data: Array(repeating: 0, count: 16)), mentions: ["\"w\"", "negative"])
        try assertRejected(SafetensorsBytes.file(header: header(SafetensorsBytes.entry("w", "F32", [1 << 40, 1 << 40], 0, 0))),
                           mentions: ["\"w\"", "too large"])
        try assertRejected(SafetensorsBytes.file(header: header(SafetensorsBytes.entry("w", "I64", [1 << 61], 0, 0))),
                           mentions: ["\"w\"", "too large"])
    }

    func testDataOffsetsMustMatchTheShapeAndLieInTheFile() throws {
        let data = [UInt8](repeating: 0, count: 16)
        try assertRejected(SafetensorsBytes.file(header: header(SafetensorsBytes.entry("w", "F16", [2, 2], 0, 16)), data: data),
                           mentions: ["\"w\"", "spanning 16 bytes", "needs 8"])
        try assertRejected(SafetensorsBytes.file(header: header(SafetensorsBytes.entry("w", "F32", [2, 2], 4, 20)), data: data),
                           mentions: ["\"w\"", "past the end"])
        try assertRejected(SafetensorsBytes.file(header: header(SafetensorsBytes.entry("w", "F32", [1], 8, 4)), data: data),
                           mentions: ["\"w\"", "[8, 4]"])
        try assertRejected(SafetensorsBytes.file(header: header(SafetensorsBytes.entry("w", "F32", [1], -4, 0)), data: data),
                           mentions: ["\"w\"", "[-4, 0]"])
        try assertRejected(SafetensorsBytes.file(header: header("\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}"),
                                                 data: data), mentions: ["\"w\"", "[begin, end]"])
        try assertRejected(SafetensorsBytes.file(header: header(SafetensorsBytes.entry("w", "F32", [1], .max - 4, .max)),
                                                 data: data), mentions: ["\"w\"", "past the end"])
    }

    func testOverlappingTensorsAreRejectedNamingBoth() throws {
        let data = [UInt8](repeating: 0, count: 16)
        try assertRejected(SafetensorsBytes.file(header: header(SafetensorsBytes.entry("a", "F32", [2], 0, 8),
                                                                SafetensorsBytes.entry("b", "F32", [2], 4, 12)), data: data),
                           mentions: ["\"a\"", "\"b\"", "overlap"])
    }

    func testEmptyTensorsMayShareAnOffset() throws {
        let path = try directory.write(
            SafetensorsBytes.file(header: header(SafetensorsBytes.entry("a", "F32", [0], 4, 4),
                                                 SafetensorsBytes.entry("b", "F32", [2], 0, 8),
                                                 SafetensorsBytes.entry("c", "BF16", [3, 0], 4, 4)),
                                  data: [UInt8](repeating: 0, count: 8)), to: "empty.safetensors")
        let file = try SafetensorsFile(path: path)
        XCTAssertEqual(try file.floats("a"), [])
        XCTAssertEqual(try file.floats("c"), [])
        XCTAssertEqual(try file.floats("b"), [0, 0])
    }

    func testMissingFilesAndDirectoriesAreRejected() throws {
        let missing = directory.url.appendingPathComponent("absent.safetensors").path
        assertInputError(try SafetensorsFile(path: missing), file: missing, mentions: ["cannot open"])
        assertInputError(try SafetensorsFile(path: directory.url.path), file: directory.url.path,
                         mentions: ["not a regular file"])
    }
}
