import Capture
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Shared
import TestSupport
import XCTest

/// Corrupts the header, metadata and tensor table of Tests/Fixtures/gguf/small.gguf in many
/// seeded ways: every outcome must be a readable file (whose tensors then dequantize or throw
/// InputError) or an InputError, never a trap or another kind of error.
final class GGUFFuzzTests: XCTestCase {
    private var directory: TemporaryGGUFDirectory!
    private var original: [UInt8] = []
    /// Everything before the data section: header, metadata and tensor table, and padding.
    private var headerLength = 0

    override func setUpWithError() throws {
        directory = try TemporaryGGUFDirectory()
        let url = Fixtures.url("gguf/small.gguf")
        original = try [UInt8](Data(contentsOf: url))
        headerLength = try GGUFFile(path: url.path).dataOffset
    }

    private enum Outcome: Hashable {
        case accepted, rejected
        /// Anything but an InputError for this file: what the tests exist to catch.
        case failed(String)
    }

    /// Opens `bytes` as a file and dequantizes every tensor. Problems are collected rather than
    /// asserted one by one: thousands of XCTAssert calls take seconds in corelibs XCTest.
    private func open(_ bytes: ArraySlice<UInt8>, name: String) throws -> Outcome {
        let path = try directory.write(bytes, name: name)
        defer { unlink(path) }
        do {
            let gguf = try GGUFFile(path: path)
            for tensor in gguf.tensors {
                do {
                    _ = try gguf.dequantize(tensor)
                } catch let error as InputError where error.file == path {
                    continue
                } catch {
                    return .failed("\(name): dequantizing \(tensor.name): \(error)")
                }
            }
            return .accepted
        } catch let error as InputError where error.file == path {
            return .rejected
        } catch {
            return .failed("\(name): \(error)")
        }
    }

    func testMutatedHeadersAreReadOrRejected() throws {
        var random = SplitMix64(seed: 0x4747_5546)
        var counts: [Outcome: Int] = [:]
        var failures: [String] = []
        for index in 0..<1500 {
            var bytes = original
            for _ in 0...random.uniform(below: 4) {
                mutate(&bytes, at: random.uniform(below: headerLength), using: &random)
            }
            let outcome = try open(bytes[...], name: "mutation-\(index).gguf")
            if case .failed(let message) = outcome { failures.append(message) }
            counts[outcome, default: 0] += 1
        }
        XCTAssertEqual(failures, [])
        // Both outcomes occur, so the mutations reach past the first checks.
        XCTAssertGreaterThan(counts[.accepted, default: 0], 50)
        XCTAssertGreaterThan(counts[.rejected, default: 0], 50)
    }

    func testEveryTruncationOfTheHeaderIsRejected() throws {
        var notRejected: [String] = []
        for length in 0..<headerLength {
            let outcome = try open(original[..<length], name: "truncated-\(length).gguf")
            if outcome != .rejected { notRejected.append("length \(length): \(outcome)") }
        }
        XCTAssertEqual(notRejected, [])
        XCTAssertEqual(try open(original[...], name: "whole.gguf"), .accepted)
    }

    /// One edit: a random byte, a flipped bit, an extreme byte, or an extreme little-endian u32 or
    /// u64 (the widths of GGUF's counts, lengths, type tags and offsets).
    private func mutate(_ bytes: inout [UInt8], at position: Int, using random: inout SplitMix64) {
        switch random.uniform(below: 5) {
        case 0:
            bytes[position] = UInt8(truncatingIfNeeded: random.next())
        case 1:
            bytes[position] ^= 1 << UInt8(random.uniform(below: 8))
        case 2:
            bytes[position] = [0x00, 0x01, 0x7F, 0x80, 0xFF][random.uniform(below: 5)]
        default:
            let extremes: [UInt64] = [0, 1, 2, 3, 4, 5, 13, 31, 0xFF, 0xFFFF, 1 << 31, 0xFFFF_FFFF, 1 << 62, .max - 1, .max]
            let width = random.uniform(below: 2) == 0 ? 4 : 8
            let value = extremes[random.uniform(below: extremes.count)]
            for index in 0..<width where position + index < headerLength {
                bytes[position + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(index)))
            }
        }
    }
}
