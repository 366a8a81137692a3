import Capture
import Foundation
import Shared
import XCTest

/// Each malformed-file case is an InputError naming the file and the problem, never a trap.
final class GGUFRejectionTests: XCTestCase {
    private var directory: TemporaryGGUFDirectory!

    override func setUpWithError() throws {
        directory = try TemporaryGGUFDirectory()
    }

    /// Asserts that opening `bytes` fails with an InputError for the file whose problem contains `problem`.
    private func assertRejected<Bytes: Collection<UInt8>>(_ bytes: Bytes, _ problem: String, line: UInt = #line) throws {
        let path = try directory.write(bytes)
        XCTAssertThrowsError(try GGUFFile(path: path), line: line) { error in
            guard let inputError = error as? InputError else {
                return XCTFail("not an InputError: \(error)", line: line)
            }
            XCTAssertEqual(inputError.file, path, line: line)
            XCTAssertTrue(inputError.description.hasPrefix("\(path): "), line: line)
            XCTAssertTrue(inputError.problem.contains(problem), "\(inputError.problem) lacks \(problem)", line: line)
        }
    }

    private func assertRejected(_ builder: GGUFBuilder, _ problem: String, line: UInt = #line) throws {
        try assertRejected(builder.build(), problem, line: line)
    }

    /// A valid file with one 64-element F32 tensor, the base most cases break one thing in.
    private func validBuilder() -> GGUFBuilder {
        var builder = GGUFBuilder()
        builder.add("general.architecture", .string("llama"))
        builder.addFloats("w", (0..<64).map(Float.init))
        return builder
    }

    func testTheBaseFileIsValid() throws {
        XCTAssertNoThrow(try GGUFFile(path: directory.write(validBuilder().build())))
    }

    func testMissingEmptyAndNonRegularFiles() throws {
        try assertRejected([], "truncated: the magic number needs 4 bytes at offset 0, but the file ends at 0")
        let missing = directory.url.appendingPathComponent("missing.gguf").path
        XCTAssertThrowsError(try GGUFFile(path: missing)) { error in
            XCTAssertEqual((error as? InputError)?.description, "\(missing): cannot open the file: No such file or directory")
        }
        XCTAssertThrowsError(try GGUFFile(path: directory.url.path)) { error in
            XCTAssertEqual((error as? InputError)?.description, "\(self.directory.url.path): not a regular file")
        }
    }

    func testBadMagicAndVersions() throws {
        var builder = validBuilder()
        builder.magic = Array("GGML".utf8)
        try assertRejected(builder, "not a GGUF file: the magic bytes are 47 47 4d 4c")
        for version: UInt32 in [0, 1, 4, 0xFFFF_FFFF] {
            builder = validBuilder()
            builder.version = version
            try assertRejected(builder, "unsupported GGUF version \(version) (expected 2 or 3)")
        }
        builder = validBuilder()
        builder.version = UInt32(3).byteSwapped
        try assertRejected(builder, "big-endian GGUF files are not supported")
    }

    func testTruncation() throws {
        let bytes = validBuilder().build()
        try assertRejected(bytes.prefix(6), "truncated: the version needs 4 bytes at offset 4, but the file ends at 6")
        try assertRejected(bytes.prefix(12), "truncated: the tensor count needs 8 bytes at offset 8, but the file ends at 12")
        try assertRejected(bytes.prefix(40), "1 tensors and 1 metadata entries cannot fit in the 16 bytes after the header")
        try assertRejected(bytes.prefix(75), "truncated: the length of the name of tensor #0 needs 8 bytes at offset 69")
        try assertRejected(bytes.dropLast(1), "tensor w data (256 bytes at data offset 0")
    }

    func testStringLengthsPastTheEnd() throws {
        var builder = validBuilder()
        builder.addRaw(key: Array("k".utf8), typeTag: GGUFValueType.string.rawValue, payload: GGUFBuilder.u64(1 << 40))
        try assertRejected(builder, "the value of metadata key k has length 1099511627776")
        builder = validBuilder()
        builder.addRaw(key: Array("k".utf8), typeTag: GGUFValueType.string.rawValue, payload: GGUFBuilder.u64(.max))
        try assertRejected(builder, "past the end of the file")
    }

    func testAbsurdCounts() throws {
        for (tensors, entries): (UInt64, UInt64) in [(1 << 40, 1), (1, 1 << 40), (.max, 0), (0, .max), (.max, .max)] {
            var builder = validBuilder()
            builder.tensorCountOverride = tensors
            builder.metadataCountOverride = entries
            try assertRejected(builder, "\(tensors) tensors and \(entries) metadata entries cannot fit")
        }
        var builder = validBuilder()
        builder.addRaw(key: Array("big".utf8), typeTag: GGUFValueType.array.rawValue,
                       payload: GGUFBuilder.u32(GGUFValueType.uint32.rawValue) + GGUFBuilder.u64(1 << 60))
        try assertRejected(builder, "metadata key big claims 1152921504606846976 elements of type uint32")
    }

    func testUnknownValueTypesDuplicateKeysBadBoolsAndUTF8() throws {
        var builder = validBuilder()
        builder.addRaw(key: Array("k".utf8), typeTag: 13, payload: [0])
        try assertRejected(builder, "metadata key k has unknown value type 13")
        builder = validBuilder()
        builder.addRaw(key: Array("k".utf8), typeTag: GGUFValueType.array.rawValue,
                       payload: GGUFBuilder.u32(99) + GGUFBuilder.u64(1) + [0])
        try assertRejected(builder, "metadata key k is an array of unknown value type 99")
        builder = validBuilder()
        builder.add("general.architecture", .string("again"))
        try assertRejected(builder, "duplicate metadata key general.architecture")
        builder = validBuilder()
        builder.addRaw(key: Array("flag".utf8), typeTag: GGUFValueType.bool.rawValue, payload: [2])
        try assertRejected(builder, "metadata key flag has bool value 2, expected 0 or 1")
        builder = validBuilder()
        builder.addRaw(key: [0x66, 0xFF, 0xFE], typeTag: GGUFValueType.uint8.rawValue, payload: [0])
        try assertRejected(builder, "metadata key #1 at offset")
        builder = validBuilder()
        var deep = GGUFValue.array(elementType: .uint8, [])
        for _ in 0..<4 { deep = .array(elementType: .array, [deep]) }
        builder.add("deep", deep)
        try assertRejected(builder, "metadata key deep nests arrays more than 4 deep")
    }

    func testAlignment() throws {
        for (alignment, problem) in [(GGUFValue.uint32(0), "general.alignment is 0, expected a power of two"),
                                     (.uint32(48), "general.alignment is 48, expected a power of two"),
                                     (.uint64(32), "metadata key general.alignment has type uint64, expected uint32")] {
            var builder = validBuilder()
            builder.add("general.alignment", alignment)
            try assertRejected(builder, problem)
        }
    }

    func testTensorTableProblems() throws {
        var builder = validBuilder()
        builder.addFloats("w", [1])
        try assertRejected(builder, "duplicate tensor name w")

        for count: UInt32 in [0, 5] {
            builder = validBuilder()
            builder.tensors[0].dimensionCountOverride = count
            builder.tensors[0].dimensions = Array(repeating: 1, count: Int(count))
            try assertRejected(builder, "tensor w has \(count) dimensions, expected 1 to 4")
        }
        builder = validBuilder()
        builder.tensors[0].dimensions = [64, 0]
        try assertRejected(builder, "tensor w has dimension 1 of size 0")

        builder = validBuilder()
        builder.addTensor("q", [33], .q4_0, data: [UInt8](repeating: 0, count: 18))
        try assertRejected(builder, "tensor q has first dimension 33, expected a multiple of the Q4_0 block size 32")
        builder = validBuilder()
        builder.addTensor("k", [128, 3], .q4_K, data: [UInt8](repeating: 0, count: 432))
        try assertRejected(builder, "tensor k has first dimension 128, expected a multiple of the Q4_K block size 256")

        builder = validBuilder()
        builder.tensors[0].typeID = 4
        try assertRejected(builder, "tensor w has unknown ggml type id 4")
    }

    func testSizeOverflow() throws {
        var builder = validBuilder()
        builder.tensors[0].dimensions = [1 << 40, 1 << 40]
        try assertRejected(builder, "tensor w has too many elements (dimension 1 is 1099511627776)")
        builder = validBuilder()
        builder.tensors[0].dimensions = [UInt64.max]
        try assertRejected(builder, "tensor w has too many elements (dimension 0 is 18446744073709551615)")
        builder = validBuilder()
        builder.tensors[0].dimensions = [1 << 62]
        try assertRejected(builder, "tensor w is too large: 4611686018427387904 F32 elements overflow the byte count")
    }

    func testTensorPlacement() throws {
        var builder = validBuilder()
        builder.tensors[0].offset = 4
        try assertRejected(builder, "tensor w has data offset 4, expected a multiple of the alignment 32")

        builder = validBuilder()
        builder.tensors[0].offset = 1 << 62
        try assertRejected(builder, "runs past the end of the file")
        builder = validBuilder()
        builder.tensors[0].offset = UInt64.max - 31
        try assertRejected(builder, "runs past the end of the file")

        builder = validBuilder()
        builder.addFloats("v", [1, 2], offset: 224)
        try assertRejected(builder, "tensors w (data bytes 0..<256) and v (from 224) overlap")
    }

    func testDequantizingUnsupportedTypesNamesTypeAndID() throws {
        var builder = validBuilder()
        builder.addTensor("iq", [256], .iq2_XXS, data: [UInt8](repeating: 0, count: 66))
        let file = try GGUFFile(path: directory.write(builder.build()))
        XCTAssertThrowsError(try file.dequantize(XCTUnwrap(file.tensorInfo(named: "iq")))) { error in
            XCTAssertEqual((error as? InputError)?.description,
                           "\(file.path): tensor iq has unsupported type IQ2_XXS (id 16)")
        }
    }
}
