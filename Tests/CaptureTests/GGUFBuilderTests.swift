import Capture
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Shared
import XCTest

/// Builds GGUF files byte by byte, valid or deliberately broken, for the reader's tests.
struct GGUFBuilder {
    struct Tensor {
        var name: String
        var dimensions: [UInt64]
        var typeID: UInt32
        var data: [UInt8]
        /// Offset from the data section start; nil places it after the previous tensor, aligned.
        var offset: UInt64?
        var dimensionCountOverride: UInt32?
    }

    var magic: [UInt8] = Array("GGUF".utf8)
    var version: UInt32 = 3
    var tensorCountOverride: UInt64?
    var metadataCountOverride: UInt64?
    /// Used to pad the header and place tensors; add a general.alignment entry to declare it.
    var alignment = 32
    private(set) var metadata: [[UInt8]] = []
    var tensors: [Tensor] = []

    mutating func add(_ key: String, _ value: GGUFValue) {
        metadata.append(Self.string(key) + Self.u32(value.type.rawValue) + Self.encode(value))
    }

    /// A metadata entry with an arbitrary type tag and payload.
    mutating func addRaw(key: [UInt8], typeTag: UInt32, payload: [UInt8]) {
        metadata.append(Self.u64(UInt64(key.count)) + key + Self.u32(typeTag) + payload)
    }

    mutating func addTensor(_ name: String, _ dimensions: [UInt64], _ type: GGMLType, data: [UInt8], offset: UInt64? = nil) {
        tensors.append(Tensor(name: name, dimensions: dimensions, typeID: type.rawValue, data: data, offset: offset))
    }

    /// An F32 tensor holding `values`.
    mutating func addFloats(_ name: String, _ values: [Float], offset: UInt64? = nil) {
        let data = values.flatMap { Self.u32($0.bitPattern) }
        addTensor(name, [UInt64(values.count)], .f32, data: data, offset: offset)
    }

    func build() -> [UInt8] {
        var bytes = magic + Self.u32(version)
        bytes += Self.u64(tensorCountOverride ?? UInt64(tensors.count))
        bytes += Self.u64(metadataCountOverride ?? UInt64(metadata.count))
        bytes += metadata.joined()
        var offsets: [UInt64] = []
        var next: UInt64 = 0
        for tensor in tensors {
            let offset = tensor.offset ?? next
            offsets.append(offset)
            next = Self.align(offset &+ UInt64(tensor.data.count), UInt64(alignment))
            bytes += Self.string(tensor.name)
            bytes += Self.u32(tensor.dimensionCountOverride ?? UInt32(tensor.dimensions.count))
            bytes += tensor.dimensions.flatMap(Self.u64)
            bytes += Self.u32(tensor.typeID) + Self.u64(offset)
        }
        bytes += [UInt8](repeating: 0, count: Int(Self.align(UInt64(bytes.count), UInt64(alignment))) - bytes.count)
        let dataStart = bytes.count
        // Data placed absurdly far (to test offset checks) is left out rather than written.
        for (tensor, offset) in zip(tensors, offsets) where offset < 1 << 24 {
            let end = dataStart + Int(offset) + tensor.data.count
            if bytes.count < end { bytes += [UInt8](repeating: 0, count: end - bytes.count) }
            bytes.replaceSubrange((end - tensor.data.count)..<end, with: tensor.data)
        }
        return bytes
    }

    static func align(_ value: UInt64, _ alignment: UInt64) -> UInt64 {
        (value &+ alignment &- 1) / alignment &* alignment
    }

    static func u32(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }
    static func u64(_ value: UInt64) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }
    static func string(_ text: String) -> [UInt8] { u64(UInt64(text.utf8.count)) + Array(text.utf8) }

    /// The payload of a value, without its type tag.
    static func encode(_ value: GGUFValue) -> [UInt8] {
        switch value {
        case .uint8(let v): [v]
        case .int8(let v): [UInt8(bitPattern: v)]
        case .uint16(let v): withUnsafeBytes(of: v.littleEndian, Array.init)
        case .int16(let v): withUnsafeBytes(of: v.littleEndian, Array.init)
        case .uint32(let v): u32(v)
        case .int32(let v): u32(UInt32(bitPattern: v))
        case .float32(let v): u32(v.bitPattern)
        case .bool(let v): [v ? 1 : 0]
        case .string(let v): string(v)
        case .array(let elementType, let elements):
            u32(elementType.rawValue) + u64(UInt64(elements.count)) + elements.flatMap(encode)
        case .uint64(let v): u64(v)
        case .int64(let v): u64(UInt64(bitPattern: v))
        case .float64(let v): u64(v.bitPattern)
        }
    }
}

/// A scratch directory for files the tests write, removed when the test case ends.
final class TemporaryGGUFDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("gguf-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }

    /// Writes with plain POSIX calls: Foundation's Data.write takes milliseconds a file on Linux,
    /// too slow for the thousands of files the fuzz test writes.
    func write<Bytes: Collection<UInt8>>(_ bytes: Bytes, name: String = "test.gguf") throws -> String {
        let path = url.appendingPathComponent(name).path
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw CocoaError(.fileWriteUnknown) }
        defer { close(descriptor) }
        let written = Array(bytes).withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw CocoaError(.fileWriteUnknown) }
        return path
    }
}

/// Files built by GGUFBuilder that a reader must accept: the edges of the format that gguf-py's
/// writer never produces.
final class GGUFBuilderTests: XCTestCase {
    private var directory: TemporaryGGUFDirectory!

    override func setUpWithError() throws {
        directory = try TemporaryGGUFDirectory()
    }

    func testVersion2WithEmptyArraysEmptyStringsAndNestedArraysIsRead() throws {
        var builder = GGUFBuilder()
        builder.version = 2
        builder.add("empty.string", .string(""))
        builder.add("empty.array", .array(elementType: .float64, []))
        let nested = GGUFValue.array(elementType: .array, [.array(elementType: .uint16, [.uint16(7)]),
                                                            .array(elementType: .uint16, [])])
        builder.add("nested", nested)
        builder.addFloats("weights", [1, -2, 0.5])
        let file = try GGUFFile(path: directory.write(builder.build()))

        XCTAssertEqual(file.version, 2)
        XCTAssertEqual(file.alignment, 32)
        XCTAssertEqual(file.metadataKeys, ["empty.string", "empty.array", "nested"])
        XCTAssertEqual(try file.optionalString("empty.string"), "")
        XCTAssertEqual(try file.optionalFloatArray("empty.array"), [])
        XCTAssertEqual(file.metadata["nested"], nested)
        XCTAssertEqual(file.metadata["nested"]?.typeDescription, "array of array")
        XCTAssertEqual(try file.dequantize(XCTUnwrap(file.tensorInfo(named: "weights"))), [1, -2, 0.5])
    }

    func testFileWithoutTensorsOrMetadataIsRead() throws {
        let file = try GGUFFile(path: directory.write(GGUFBuilder().build()))
        XCTAssertEqual(file.tensors.count, 0)
        XCTAssertEqual(file.metadataKeys, [])
        XCTAssertNil(try file.optionalInt("anything"))
    }

    func testCustomAlignmentPlacesTheDataSection() throws {
        for alignment: UInt32 in [1, 8, 4096] {
            var builder = GGUFBuilder()
            builder.alignment = Int(alignment)
            builder.add("general.alignment", .uint32(alignment))
            builder.addFloats("a", [1, 2, 3])
            builder.addFloats("b", [4])
            let file = try GGUFFile(path: directory.write(builder.build()))
            XCTAssertEqual(file.alignment, Int(alignment))
            XCTAssertEqual(file.dataOffset % Int(alignment), 0)
            XCTAssertEqual(file.tensorInfo(named: "b")?.offset, Int(GGUFBuilder.align(12, UInt64(alignment))))
            XCTAssertEqual(try file.dequantize(XCTUnwrap(file.tensorInfo(named: "b"))), [4])
        }
    }

    func testTensorsMayBeStoredOutOfTableOrder() throws {
        var builder = GGUFBuilder()
        builder.addFloats("second", [2, 2], offset: 32)
        builder.addFloats("first", [1], offset: 0)
        let file = try GGUFFile(path: directory.write(builder.build()))
        XCTAssertEqual(file.tensors.map(\.name), ["second", "first"])
        XCTAssertEqual(try file.dequantize(file.tensors[0]), [2, 2])
        XCTAssertEqual(try file.dequantize(file.tensors[1]), [1])
    }

    func testIntegerAccessorsWidenEveryIntegerTypeAndFloatAccessorsAcceptIntegers() throws {
        var builder = GGUFBuilder()
        builder.add("u8", .uint8(255))
        builder.add("i16", .int16(-300))
        builder.add("u64", .uint64(1 << 40))
        builder.add("f64", .float64(0.25))
        builder.add("ints", .array(elementType: .int8, [.int8(-1), .int8(2)]))
        let file = try GGUFFile(path: directory.write(builder.build()))
        XCTAssertEqual(try file.int("u8"), 255)
        XCTAssertEqual(try file.int("i16"), -300)
        XCTAssertEqual(try file.int("u64"), 1 << 40)
        XCTAssertEqual(try file.float("u8"), 255)
        XCTAssertEqual(try file.float("f64"), 0.25)
        XCTAssertEqual(try file.optionalIntArray("ints"), [-1, 2])
        XCTAssertEqual(try file.optionalFloatArray("ints"), [-1, 2])
    }
}
