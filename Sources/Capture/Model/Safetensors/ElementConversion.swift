import Dispatch
import Foundation

/// Widening of stored elements to the engine's types. The sources are mapped file bytes at
/// arbitrary alignment, so every load is unaligned; hosts are little-endian like the format.
enum ElementConversion {
    /// Below this many elements a tensor converts on the calling thread: spreading small work
    /// over cores costs more than it saves.
    static let elementsPerParallelChunk = 1 << 18

    /// IEEE half to single precision by bit manipulation, exact for every input (F. Giesen's
    /// branch-light method): normals rebias the exponent, infinities and NaNs keep an all-ones
    /// exponent and their payload, subnormals are renormalised by one exact float subtraction.
    @inline(__always)
    static func float(fromHalfBits half: UInt16) -> Float {
        let magnitude = UInt32(half & 0x7fff) << 13
        let sign = UInt32(half & 0x8000) << 16
        let rebiased = magnitude &+ ((127 - 15) << 23)
        let value: Float
        switch magnitude & 0x0f80_0000 {
        case 0x0f80_0000:  // infinity or NaN
            value = Float(bitPattern: rebiased &+ ((128 - 16) << 23))
        case 0:  // zero or subnormal
            value = Float(bitPattern: rebiased &+ (1 << 23)) - Float(bitPattern: 113 << 23)
        default:
            value = Float(bitPattern: rebiased)
        }
        return Float(bitPattern: value.bitPattern | sign)
    }

    /// bfloat16 is the top half of a float32: widening is a shift, exact by construction.
    @inline(__always)
    static func float(fromBFloat16Bits bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// Converts `count` elements of `dtype` at `source` to Float.
    static func floats(from source: UnsafeRawPointer, count: Int, dtype: SafetensorsDType) -> [Float] {
        precondition(dtype.isFloatingPoint, "floats(from:) on \(dtype)")
        guard count > 0 else { return [] }
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            let output = UncheckedSendable(buffer.baseAddress!)
            let input = UncheckedSendable(source)
            forEachChunk(of: count) { chunk in
                convert(input.value, into: output.value, range: chunk, dtype: dtype)
            }
            initialized = count
        }
    }

    private static func convert(_ input: UnsafeRawPointer, into output: UnsafeMutablePointer<Float>,
                                range: Range<Int>, dtype: SafetensorsDType) {
        switch dtype {
        case .f32:
            memcpy(output + range.lowerBound, input + range.lowerBound * 4, range.count * 4)
        case .f16:
            for i in range {
                output[i] = float(fromHalfBits: input.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
            }
        case .bf16:
            for i in range {
                output[i] = float(fromBFloat16Bits: input.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
            }
        case .i32, .i64:
            preconditionFailure("integer dtype \(dtype) is not converted to Float")
        }
    }

    /// Reads `count` I32 elements, or narrows I64 elements; returns the index of the first I64
    /// value outside Int32's range instead of trapping on it.
    static func int32s(from source: UnsafeRawPointer, count: Int,
                       dtype: SafetensorsDType) -> Result<[Int32], OutOfRange> {
        switch dtype {
        case .i32:
            guard count > 0 else { return .success([]) }
            return .success([Int32](unsafeUninitializedCapacity: count) { buffer, initialized in
                memcpy(buffer.baseAddress!, source, count * 4)
                initialized = count
            })
        case .i64:
            var values = [Int32]()
            values.reserveCapacity(count)
            for i in 0..<count {
                let wide = Int64(littleEndian: source.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))
                guard let narrow = Int32(exactly: wide) else { return .failure(OutOfRange(index: i, value: wide)) }
                values.append(narrow)
            }
            return .success(values)
        case .f32, .f16, .bf16:
            preconditionFailure("float dtype \(dtype) is not read as Int32")
        }
    }

    struct OutOfRange: Error {
        let index: Int
        let value: Int64
    }

    /// Runs `body` over `0..<count`, split into chunks on all cores when the work is large.
    static func forEachChunk(of count: Int, _ body: @Sendable (Range<Int>) -> Void) {
        let chunkCount = min(count / elementsPerParallelChunk, ProcessInfo.processInfo.activeProcessorCount * 4)
        guard chunkCount > 1 else {
            body(0..<count)
            return
        }
        DispatchQueue.concurrentPerform(iterations: chunkCount) { chunk in
            let start = count * chunk / chunkCount
            let end = count * (chunk + 1) / chunkCount
            body(start..<end)
        }
    }
}

/// A pointer handed to concurrent workers that each touch a disjoint range behind it.
private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
