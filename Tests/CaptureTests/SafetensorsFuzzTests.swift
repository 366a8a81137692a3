import Capture
import Foundation
import Shared
import XCTest

/// Seeded random damage to a valid file's length field and header: opening and reading the
/// result may succeed or throw an InputError naming the file, but must never trap.
final class SafetensorsFuzzTests: XCTestCase {
    /// Fragments that steer mutations toward the checks: numbers at and past every limit,
    /// wrong JSON types, other dtypes, deep nesting.
    private static let tokens = [
        "-1", "0", "1e400", "9223372036854775807", "9223372036854775808", "18446744073709551615",
        "4.5", "null", "true", "[]", "{}", "\"F16\"", "\"BF16\"", "\"I32\"", "\"BOOL\"", "[[[[[[[[",
        "}}}}", ",", ":", "\"", "\\u0000", "\"data_offsets\"", "\"shape\"", "[0,0]", "[16,0]",
    ]

    func testRandomHeaderDamageNeverTraps() throws {
        let directory = try TemporaryDirectory()
        let valid = [UInt8](SafetensorsBytes.valid())
        let headerEnd = 8 + Int(valid[0]) + (Int(valid[1]) << 8)
        var generator = SplitMix64(seed: 20_240_601)
        var outcomes = (opened: 0, rejected: 0)

        for iteration in 0..<600 {
            var bytes = valid
            for _ in 0..<1 + generator.uniform(below: 3) {
                mutate(&bytes, headerEnd: headerEnd, using: &generator)
            }
            let path = try directory.write(Data(bytes), to: "fuzz-\(iteration).safetensors")
            do {
                let file = try SafetensorsFile(path: path)
                outcomes.opened += 1
                for info in file.tensors.values {
                    do {
                        _ = info.dtype.isFloatingPoint ? try file.floats(info.name).count : try file.int32s(info.name).count
                    } catch let error as InputError {
                        XCTAssertEqual(error.file, path)
                    }
                }
            } catch let error as InputError {
                outcomes.rejected += 1
                XCTAssertEqual(error.file, path, "iteration \(iteration)")
                XCTAssertFalse(error.problem.isEmpty)
            }
        }
        XCTAssertGreaterThan(outcomes.opened, 0)
        XCTAssertGreaterThan(outcomes.rejected, 300)
    }

    private func mutate(_ bytes: inout [UInt8], headerEnd: Int, using generator: inout SplitMix64) {
        let headerRange = 8..<max(9, min(headerEnd, bytes.count))
        // SplitMix64's own draws: the standard library's random(in:using:) may change its algorithm.
        func pick(_ range: Range<Int>) -> Int { range.lowerBound + generator.uniform(below: range.count) }
        switch generator.uniform(below: 6) {
        case 0:
            if bytes.count > 8 {
                bytes[pick(headerRange) % bytes.count] = UInt8(generator.uniform(below: 256))
            }
        case 1:
            let digits = bytes.indices.filter { $0 >= 8 && bytes[$0] >= 0x30 && bytes[$0] <= 0x39 }
            if !digits.isEmpty { bytes[digits[generator.uniform(below: digits.count)]] = 0x30 + UInt8(generator.uniform(below: 10)) }
        case 2:
            let token = Array(Self.tokens[generator.uniform(below: Self.tokens.count)].utf8)
            let at = pick(headerRange) % max(bytes.count, 1)
            let length = generator.uniform(below: 5)
            bytes.replaceSubrange(at..<min(at + length, bytes.count), with: token)
        case 3:
            let delta = generator.uniform(below: 49) - 24
            let length = UInt64(bitPattern: Int64(headerEnd - 8 + delta))
            withUnsafeBytes(of: length.littleEndian) { bytes.replaceSubrange(0..<8, with: $0) }
        case 4:
            bytes.removeLast(generator.uniform(below: min(bytes.count, 40) + 1))
        default:
            let value = generator.next() >> UInt64(generator.uniform(below: 64))
            withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(0..<min(8, bytes.count), with: $0) }
        }
    }
}
