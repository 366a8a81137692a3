import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// End to end on Tests/Fixtures/gguf/small.gguf, written by gguf-py's GGUFWriter: every metadata
/// value type, alignment 64, a tensor of every supported type; expected values are what gguf-py's
/// GGUFReader and dequantize make of the same file.
final class GGUFSmallFileTests: XCTestCase {
    /// A metadata value as the fixture script writes it: scalars as text (floats as bit patterns).
    struct ExpectedValue: Decodable, Equatable {
        var type: String
        var value: String?
        var element_type: String?
        var values: [ExpectedValue]?
    }

    private struct Expected: Decodable {
        struct Entry: Decodable {
            let key: String
            let type: String
            let value: String?
            let element_type: String?
            let values: [ExpectedValue]?
        }

        struct Tensor: Decodable {
            let name: String
            let dimensions: [Int]
            let type: String
            let type_id: UInt32
            let offset: Int
            let byte_count: Int
            let value_bits: [UInt32]
        }

        let version: UInt32
        let alignment: Int
        let data_offset: Int
        let file_size: Int
        let metadata: [Entry]
        let tensors: [Tensor]
    }

    private func load() throws -> (GGUFFile, Expected) {
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: Fixtures.url("gguf/small.expected.json")))
        return (try GGUFFile(path: Fixtures.url("gguf/small.gguf").path), expected)
    }

    /// `value` in the fixture's notation.
    static func describe(_ value: GGUFValue) -> ExpectedValue {
        let name = value.type.name
        switch value {
        case .uint8(let v): return ExpectedValue(type: name, value: String(v))
        case .int8(let v): return ExpectedValue(type: name, value: String(v))
        case .uint16(let v): return ExpectedValue(type: name, value: String(v))
        case .int16(let v): return ExpectedValue(type: name, value: String(v))
        case .uint32(let v): return ExpectedValue(type: name, value: String(v))
        case .int32(let v): return ExpectedValue(type: name, value: String(v))
        case .uint64(let v): return ExpectedValue(type: name, value: String(v))
        case .int64(let v): return ExpectedValue(type: name, value: String(v))
        case .float32(let v): return ExpectedValue(type: name, value: String(format: "0x%08x", v.bitPattern))
        case .float64(let v): return ExpectedValue(type: name, value: String(format: "0x%016llx", v.bitPattern))
        case .bool(let v): return ExpectedValue(type: name, value: v ? "true" : "false")
        case .string(let v): return ExpectedValue(type: name, value: v)
        case .array(let elementType, let elements):
            return ExpectedValue(type: name, element_type: elementType.name, values: elements.map(describe))
        }
    }

    func testHeaderAndMetadataMatchGGUFPy() throws {
        let (file, expected) = try load()
        XCTAssertEqual(file.version, expected.version)
        XCTAssertEqual(file.alignment, expected.alignment)
        XCTAssertEqual(file.dataOffset, expected.data_offset)
        XCTAssertEqual(file.fileSize, expected.file_size)
        XCTAssertEqual(file.metadataKeys, expected.metadata.map(\.key))
        XCTAssertEqual(Set(file.metadata.keys), Set(file.metadataKeys))
        for entry in expected.metadata {
            let value = try XCTUnwrap(file.metadata[entry.key], entry.key)
            let want = ExpectedValue(type: entry.type, value: entry.value, element_type: entry.element_type, values: entry.values)
            XCTAssertEqual(Self.describe(value), want, entry.key)
        }
    }

    func testTypedAccessorsReadTheFixtureValues() throws {
        let (file, _) = try load()
        XCTAssertEqual(try file.string("general.architecture"), "test")
        XCTAssertEqual(try file.optionalString("test.string"), "héllo, wörld ✓")
        XCTAssertEqual(try file.int("test.u8"), 200)
        XCTAssertEqual(try file.int("test.i8"), -100)
        XCTAssertEqual(try file.int("test.u32"), 4_000_000_000)
        XCTAssertEqual(try file.optionalInt("test.i64"), -9_000_000_000_000_000_000)
        XCTAssertEqual(try file.float("test.f32"), 9.999999747378752e-06)
        XCTAssertEqual(try file.float("test.f64"), Float(-2.718281828459045))
        XCTAssertEqual(try file.optionalBool("test.bool"), true)
        XCTAssertEqual(try file.optionalStringArray("test.array.string"), ["a", "", "ünï"])
        XCTAssertEqual(try file.optionalFloatArray("test.array.f32"), [0.5, -1.25, 1e-3])
        XCTAssertEqual(try file.optionalIntArray("test.array.i32"), [1, -2, 3])
        XCTAssertEqual(try file.optionalIntArray("test.array.u8"), [0, 255, 7])
        XCTAssertNil(try file.optionalString("no.such.key"))
        XCTAssertNil(try file.optionalStringArray("no.such.key"))
    }

    func testAccessorErrorsNameTheFileKeyAndBothTypes() throws {
        let (file, _) = try load()
        let path = file.path
        let cases: [(String, () throws -> Any?)] = [
            ("missing metadata key no.such.key", { try file.string("no.such.key") }),
            ("missing metadata key no.such.key", { try file.int("no.such.key") }),
            ("missing metadata key no.such.key", { try file.float("no.such.key") }),
            ("metadata key test.u32 has type uint32, expected string", { try file.string("test.u32") }),
            ("metadata key test.string has type string, expected an integer", { try file.int("test.string") }),
            ("metadata key test.bool has type bool, expected a number", { try file.optionalFloat("test.bool") }),
            ("metadata key test.u8 has type uint8, expected bool", { try file.optionalBool("test.u8") }),
            ("metadata key test.array.i32 has type array of int32, expected array of string",
             { try file.optionalStringArray("test.array.i32") }),
            ("metadata key test.array.string has type array of string, expected array of numbers",
             { try file.optionalFloatArray("test.array.string") }),
            ("metadata key test.array.f32 has type array of float32, expected array of integers",
             { try file.optionalIntArray("test.array.f32") }),
            ("metadata key test.string has type string, expected array of integers",
             { try file.optionalIntArray("test.string") }),
            ("metadata key test.u64 has value uint64(18000000000000000000) outside the range of Int",
             { try file.int("test.u64") }),
            ("metadata key test.array.u64 element 1 has value uint64(9223372036854775808) outside the range of Int",
             { try file.optionalIntArray("test.array.u64") }),
        ]
        for (problem, body) in cases {
            XCTAssertThrowsError(try body(), problem) { error in
                XCTAssertEqual((error as? InputError)?.description, "\(path): \(problem)")
            }
        }
    }

    func testTensorTableAndValuesMatchGGUFPy() throws {
        let (file, expected) = try load()
        XCTAssertEqual(file.tensors.map(\.name), expected.tensors.map(\.name))
        for want in expected.tensors {
            let tensor = try XCTUnwrap(file.tensorInfo(named: want.name))
            XCTAssertEqual(tensor.dimensions, want.dimensions, want.name)
            XCTAssertEqual(tensor.type.name, want.type, want.name)
            XCTAssertEqual(tensor.type.rawValue, want.type_id, want.name)
            XCTAssertEqual(tensor.offset, want.offset, want.name)
            XCTAssertEqual(tensor.offset % file.alignment, 0, want.name)
            XCTAssertEqual(tensor.byteCount, want.byte_count, want.name)
            XCTAssertEqual(tensor.elementCount, want.dimensions.reduce(1, *), want.name)
            guard tensor.type.isDequantizable else {
                XCTAssertThrowsError(try file.dequantize(tensor)) { error in
                    XCTAssertEqual((error as? InputError)?.description,
                                   "\(file.path): tensor \(want.name) has unsupported type \(want.type) (id \(want.type_id))")
                }
                continue
            }
            let values = try file.dequantize(tensor)
            XCTAssertEqual(values.map(\.bitPattern), want.value_bits, want.name)
        }
        XCTAssertNil(file.tensorInfo(named: "missing"))
    }

    func testTensorInfoFromAnotherFileIsRejected() throws {
        let (file, _) = try load()
        var builder = GGUFBuilder()
        builder.addFloats("f32.cube", [Float](repeating: 0, count: 24))
        let directory = try TemporaryGGUFDirectory()
        let other = try GGUFFile(path: directory.write(builder.build()))
        let foreign = try XCTUnwrap(other.tensorInfo(named: "f32.cube"))
        XCTAssertThrowsError(try file.dequantize(foreign)) { error in
            XCTAssertEqual((error as? InputError)?.description,
                           "\(file.path): tensor f32.cube is not in this file's tensor table")
        }
    }
}
