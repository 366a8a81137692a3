import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// Every supported type's dequantization against gguf-py's, bit for bit, on the blocks made by
/// reference/make_gguf_fixtures.py; and the type table against gguf-py's GGML_QUANT_SIZES.
final class GGUFDequantizeTests: XCTestCase {
    private struct Manifest: Decodable {
        struct Entry: Decodable {
            let name: String
            let id: UInt32
            let elements: Int
            let bytes: Int
        }

        struct Geometry: Decodable {
            let id: UInt32
            let block_size: Int
            let type_size: Int
        }

        let types: [Entry]
        let ggml_quant_sizes: [String: Geometry]
    }

    private func manifest() throws -> Manifest {
        try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: Fixtures.url("gguf/quants/manifest.json")))
    }

    func testEverySupportedTypeMatchesGGUFPyBitForBit() throws {
        let entries = try manifest().types
        let dequantizable = GGMLType.allCases.filter(\.isDequantizable)
        XCTAssertEqual(Set(entries.map(\.name)), Set(dequantizable.map(\.name)), "a fixture per supported type")
        for entry in entries {
            let type = try XCTUnwrap(GGMLType(rawValue: entry.id))
            XCTAssertEqual(type.name, entry.name)
            let raw = try Data(contentsOf: Fixtures.url("gguf/quants/\(entry.name).bin"))
            let expectedBits = try Data(contentsOf: Fixtures.url("gguf/quants/\(entry.name).f32")).withUnsafeBytes { bytes in
                (0..<(bytes.count / 4)).map { UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)) }
            }
            XCTAssertEqual(raw.count, entry.bytes)
            XCTAssertEqual(expectedBits.count, entry.elements)
            let actual = try raw.withUnsafeBytes {
                try type.dequantize($0, elementCount: entry.elements, file: "fixture", tensor: entry.name)
            }
            let mismatches = zip(actual.map(\.bitPattern), expectedBits).enumerated().filter { $1.0 != $1.1 }
            XCTAssertEqual(mismatches.count, 0, "\(entry.name): first mismatches \(mismatches.prefix(4))")
        }
    }

    func testLargeInputsSplitAcrossCoresGiveTheSameValuesAsOneBlockAtATime() throws {
        // 1024 copies of the Q4_K fixture: big enough to be split into parallel chunks.
        let raw = try Data(contentsOf: Fixtures.url("gguf/quants/Q4_K.bin"))
        let single = try raw.withUnsafeBytes { try GGMLType.q4_K.dequantize($0, elementCount: 6 * 256, file: nil, tensor: "x") }
        let repeated = Data((0..<1024).flatMap { _ in raw })
        let whole = try repeated.withUnsafeBytes {
            try GGMLType.q4_K.dequantize($0, elementCount: 1024 * 6 * 256, file: nil, tensor: "x")
        }
        XCTAssertEqual(whole.count, 1024 * single.count)
        for copy in stride(from: 0, to: 1024, by: 97) {
            XCTAssertEqual(Array(whole[(copy * single.count)..<((copy + 1) * single.count)]), single)
        }
        XCTAssertEqual(Array(whole.suffix(single.count)), single)
    }

    func testTypeTableMatchesGGUFPyExceptQ8_1() throws {
        let sizes = try manifest().ggml_quant_sizes
        XCTAssertEqual(Set(sizes.keys), Set(GGMLType.allCases.map(\.name)))
        for type in GGMLType.allCases {
            let geometry = try XCTUnwrap(sizes[type.name])
            XCTAssertEqual(geometry.id, type.rawValue, type.name)
            XCTAssertEqual(geometry.block_size, type.blockSize, type.name)
            if type == .q8_1 {
                // ggml's block_q8_1 holds two fp16 (d, s) and 32 int8; gguf-py 0.19 counts two fp32.
                XCTAssertEqual(type.bytesPerBlock, 36)
                XCTAssertEqual(geometry.type_size, 40)
            } else {
                XCTAssertEqual(geometry.type_size, type.bytesPerBlock, type.name)
            }
        }
    }

    func testBlockLayoutSizesAreGGMLs() {
        let ggml: [GGMLType: (Int, Int)] = [
            .q4_0: (32, 18), .q4_1: (32, 20), .q5_0: (32, 22), .q5_1: (32, 24), .q8_0: (32, 34),
            .q2_K: (256, 84), .q3_K: (256, 110), .q4_K: (256, 144), .q5_K: (256, 176), .q6_K: (256, 210),
        ]
        for (type, (values, bytes)) in ggml {
            XCTAssertEqual(type.blockSize, values, type.name)
            XCTAssertEqual(type.bytesPerBlock, bytes, type.name)
        }
    }

    func testUnsupportedTypesAndWrongSizesAreInputErrors() throws {
        let bytes = [UInt8](repeating: 0, count: 36)
        try bytes.withUnsafeBytes { raw in
            assertInputError(try GGMLType.iq4_NL.dequantize(UnsafeRawBufferPointer(rebasing: raw[0..<18]), elementCount: 32,
                                                             file: "m.gguf", tensor: "w"),
                             "m.gguf: tensor w has unsupported type IQ4_NL (id 20)")
            assertInputError(try GGMLType.q4_0.dequantize(raw, elementCount: 32, file: "m.gguf", tensor: "w"),
                             "m.gguf: tensor w needs 18 bytes for 32 Q4_0 elements, got 36")
            assertInputError(try GGMLType.q4_0.dequantize(raw, elementCount: 31, file: "m.gguf", tensor: "w"),
                             "m.gguf: tensor w has 31 elements, not a whole number of Q4_0 blocks of 32")
        }
    }

    private func assertInputError<T>(_ body: @autoclosure () throws -> T, _ description: String,
                                     line: UInt = #line) {
        XCTAssertThrowsError(try body(), line: line) { error in
            XCTAssertEqual((error as? InputError)?.description, description, line: line)
        }
    }
}
