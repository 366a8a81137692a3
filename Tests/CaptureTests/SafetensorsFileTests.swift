import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// A tensor as reference/make_safetensors_fixtures.py describes it: floats as the float32 bit
/// patterns that torch widens them to, integers as values.
struct ExpectedTensor: Decodable {
    let shape: [Int]
    let dtype: String
    let float32Bits: [UInt32]?
    let values: [Int64]?

    enum CodingKeys: String, CodingKey {
        case shape, dtype, values
        case float32Bits = "float32_bits"
    }

    static func load(_ relativePath: String) throws -> [String: ExpectedTensor] {
        try JSONDecoder().decode([String: ExpectedTensor].self, from: Data(contentsOf: Fixtures.url(relativePath)))
    }
}

/// Asserts bit-for-bit equality (NaN against NaN of the same sign).
func assertSameBits(_ actual: [Float], _ expected: [UInt32], _ name: String,
                    file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, name, file: file, line: line)
    for (index, (value, bits)) in zip(actual, expected).enumerated() {
        let wanted = Float(bitPattern: bits)
        let same = wanted.isNaN ? value.isNaN && value.sign == wanted.sign : value.bitPattern == bits
        if !same {
            return XCTFail("\(name)[\(index)]: \(value) (0x\(String(value.bitPattern, radix: 16))), expected \(wanted) (0x\(String(bits, radix: 16)))",
                           file: file, line: line)
        }
    }
}

final class SafetensorsFileTests: XCTestCase {
    private let dtypesPath = Fixtures.url("safetensors/dtypes/model.safetensors").path

    private static let torchDTypes: [String: SafetensorsDType] = [
        "float32": .f32, "float16": .f16, "bfloat16": .bf16, "int32": .i32, "int64": .i64,
    ]

    func testEveryFixtureTensorHasItsShapeAndDtypeAndExactValues() throws {
        let file = try SafetensorsFile(path: dtypesPath)
        let expected = try ExpectedTensor.load("safetensors/dtypes/expected.json")
        XCTAssertEqual(Set(file.tensors.keys), Set(expected.keys))
        XCTAssertEqual(file.metadata, ["format": "pt"])
        for (name, tensor) in expected {
            let info = try XCTUnwrap(file.tensors[name])
            XCTAssertEqual(info.name, name)
            XCTAssertEqual(info.shape, tensor.shape, name)
            XCTAssertEqual(info.dtype, Self.torchDTypes[tensor.dtype], name)
            XCTAssertEqual(info.elementCount, tensor.shape.reduce(1, *), name)
            if let bits = tensor.float32Bits {
                assertSameBits(try file.floats(name), bits, name)
            } else if name != "i64_out_of_range", let values = tensor.values {
                XCTAssertEqual(try file.int32s(name).map(Int64.init), values, name)
            }
        }
    }

    func testScalarsAndEmptyTensors() throws {
        let file = try SafetensorsFile(path: dtypesPath)
        XCTAssertEqual(file.tensors["f32_scalar"]?.shape, [])
        XCTAssertEqual(try file.floats("f32_scalar"), [3.25])
        XCTAssertEqual(file.tensors["f32_empty"]?.shape, [0, 3])
        XCTAssertEqual(try file.floats("f32_empty"), [])
    }

    func testByteRangesAreAbsoluteAndInsideTheFile() throws {
        let file = try SafetensorsFile(path: dtypesPath)
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: dtypesPath)[.size] as? Int)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: dtypesPath))
        let headerLength = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        for info in file.tensors.values {
            XCTAssertGreaterThanOrEqual(info.byteRange.lowerBound, 8 + headerLength, info.name)
            XCTAssertLessThanOrEqual(info.byteRange.upperBound, size, info.name)
        }
        let scalar = try XCTUnwrap(file.tensors["f32_scalar"])
        let stored = bytes[scalar.byteRange].withUnsafeBytes { $0.loadUnaligned(as: Float.self) }
        XCTAssertEqual(stored, 3.25)
    }

    func testI64ValuesOutsideInt32AreAnErrorNamingTheElement() throws {
        let file = try SafetensorsFile(path: dtypesPath)
        assertInputError(try file.int32s("i64_out_of_range"), file: dtypesPath,
                         mentions: ["\"i64_out_of_range\"", "element 1", "2147483648"])
    }

    func testReadingTheWrongKindOrAMissingNameIsAnError() throws {
        let file = try SafetensorsFile(path: dtypesPath)
        assertInputError(try file.floats("i32_vector"), file: dtypesPath, mentions: ["\"i32_vector\"", "I32"])
        assertInputError(try file.int32s("bf16_matrix"), file: dtypesPath, mentions: ["\"bf16_matrix\"", "BF16"])
        assertInputError(try file.floats("absent"), file: dtypesPath, mentions: ["\"absent\""])
    }

    #if !(os(macOS) && arch(x86_64))
    func testEveryHalfBitPatternWidensLikeSwiftFloat16() throws {
        let all = (0...UInt16.max).map { $0 }
        let values = try readBack(halfBits: all, dtype: "F16")
        assertSameBits(values, all.map { Float(Float16(bitPattern: $0)).bitPattern }, "all F16")
    }
    #endif

    func testEveryBFloat16BitPatternIsTheTopHalfOfAFloat() throws {
        let all = (0...UInt16.max).map { $0 }
        let values = try readBack(halfBits: all, dtype: "BF16")
        XCTAssertEqual(values.map(\.bitPattern), all.map { UInt32($0) << 16 })
    }

    /// Large tensors convert on several threads; every chunk boundary must land right.
    func testLargeTensorsConvertInParallelExactly() throws {
        var generator = SplitMix64(seed: 42)
        let count = 1_000_003
        let halves = (0..<count).map { _ in UInt16(truncatingIfNeeded: generator.next()) }
        let f16 = try readBack(halfBits: halves, dtype: "F16")
        let bf16 = try readBack(halfBits: halves, dtype: "BF16")
        XCTAssertEqual(bf16.map(\.bitPattern), halves.map { UInt32($0) << 16 })
        #if !(os(macOS) && arch(x86_64))
        assertSameBits(f16, halves.map { Float(Float16(bitPattern: $0)).bitPattern }, "large F16")
        #else
        XCTAssertEqual(f16.count, count)
        #endif
    }

    /// Writes 16-bit elements behind a header of odd length, so the data is not even 2-aligned.
    private func readBack(halfBits: [UInt16], dtype: String) throws -> [Float] {
        let directory = try TemporaryDirectory()
        let entry = SafetensorsBytes.entry("t", dtype, [halfBits.count], 0, 2 * halfBits.count)
        var header = "{\(entry)}"
        if header.utf8.count % 2 == 0 { header += " " }
        var data = [UInt8]()
        data.reserveCapacity(2 * halfBits.count)
        for bits in halfBits { data.append(UInt8(bits & 0xff)); data.append(UInt8(bits >> 8)) }
        let path = try directory.write(SafetensorsBytes.file(header: header, data: data), to: "halves.safetensors")
        let file = try SafetensorsFile(path: path)
        XCTAssertEqual((file.tensors["t"]?.byteRange.lowerBound ?? 0) % 2, 1)
        return try file.floats("t")
    }
}
