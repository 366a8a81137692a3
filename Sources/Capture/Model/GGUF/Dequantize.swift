import Dispatch
import Foundation
import Shared

/// One ggml block format: how many values a block holds, how many bytes it takes, and how to widen
/// a run of consecutive blocks to fp32.
protocol QuantBlockLayout {
    static var valueCount: Int { get }
    static var byteCount: Int { get }
    /// Writes `blockCount * valueCount` floats for the `blockCount` blocks at `source`.
    static func dequantize(_ source: UnsafeRawPointer, blockCount: Int, into destination: UnsafeMutablePointer<Float>)
}

/// fp32 elements: copied (GGUF is little-endian, as is every host this runs on).
enum ElementF32: QuantBlockLayout {
    static let valueCount = 1
    static let byteCount = 4

    static func dequantize(_ source: UnsafeRawPointer, blockCount: Int, into destination: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: blockCount * byteCount)
    }
}

/// IEEE fp16 elements.
enum ElementF16: QuantBlockLayout {
    static let valueCount = 1
    static let byteCount = 2

    static func dequantize(_ source: UnsafeRawPointer, blockCount: Int, into destination: UnsafeMutablePointer<Float>) {
        for i in 0..<blockCount {
            destination[i] = HalfFloat.loadHalf(source, at: i * 2)
        }
    }
}

/// bfloat16 elements.
enum ElementBF16: QuantBlockLayout {
    static let valueCount = 1
    static let byteCount = 2

    static func dequantize(_ source: UnsafeRawPointer, blockCount: Int, into destination: UnsafeMutablePointer<Float>) {
        for i in 0..<blockCount {
            let bits = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))
            destination[i] = HalfFloat.float(fromBFloat16Bits: bits)
        }
    }
}

extension GGMLType {
    /// The block format of a dequantizable type.
    var blockLayout: (any QuantBlockLayout.Type)? {
        switch self {
        case .f32: ElementF32.self
        case .f16: ElementF16.self
        case .bf16: ElementBF16.self
        case .q4_0: BlockQ4_0.self
        case .q4_1: BlockQ4_1.self
        case .q5_0: BlockQ5_0.self
        case .q5_1: BlockQ5_1.self
        case .q8_0: BlockQ8_0.self
        case .q2_K: BlockQ2_K.self
        case .q3_K: BlockQ3_K.self
        case .q4_K: BlockQ4_K.self
        case .q5_K: BlockQ5_K.self
        case .q6_K: BlockQ6_K.self
        default: nil
        }
    }

    /// fp32 values of `elementCount` elements of this type stored in `bytes`, in storage order.
    /// `file` and `tensor` name the data in errors. Large inputs are split across the cores.
    public func dequantize(_ bytes: UnsafeRawBufferPointer, elementCount: Int,
                           file: String?, tensor: String) throws -> [Float] {
        guard let layout = blockLayout else {
            throw InputError(file: file, "tensor \(tensor) has unsupported type \(name) (id \(rawValue))")
        }
        guard let expectedBytes = byteCount(elementCount: elementCount) else {
            throw InputError(file: file, "tensor \(tensor) has \(elementCount) elements, not a whole number of \(name) blocks of \(blockSize)")
        }
        guard bytes.count == expectedBytes else {
            throw InputError(file: file, "tensor \(tensor) needs \(expectedBytes) bytes for \(elementCount) \(name) elements, got \(bytes.count)")
        }
        guard let source = bytes.baseAddress, elementCount > 0 else { return [] }
        let blockCount = elementCount / blockSize
        return [Float](unsafeUninitializedCapacity: elementCount) { buffer, initializedCount in
            guard let destination = buffer.baseAddress else { return }
            DequantizeJob(layout: layout, source: source, destination: destination, blockCount: blockCount).run()
            initializedCount = elementCount
        }
    }
}

/// Splits one tensor's blocks into chunks that run on all cores. Each chunk reads its own blocks
/// and writes its own disjoint output range, which is why sharing the pointers is sound.
private struct DequantizeJob: @unchecked Sendable {
    let layout: any QuantBlockLayout.Type
    let source: UnsafeRawPointer
    let destination: UnsafeMutablePointer<Float>
    let blockCount: Int

    /// Below this many values a chunk is not worth a thread hand-off.
    private static let minimumValuesPerChunk = 1 << 16
    /// Read once: Foundation re-reads cgroup limits on every call.
    private static let cores = ProcessInfo.processInfo.activeProcessorCount

    func run() {
        let cores = Self.cores
        let minimumBlocks = max(1, Self.minimumValuesPerChunk / layout.valueCount)
        // A few chunks per core even out cores that start late.
        let chunkCount = min(cores * 4, max(1, blockCount / minimumBlocks))
        if chunkCount == 1 {
            layout.dequantize(source, blockCount: blockCount, into: destination)
            return
        }
        let blocksPerChunk = (blockCount + chunkCount - 1) / chunkCount
        DispatchQueue.concurrentPerform(iterations: chunkCount) { chunk in
            let first = chunk * blocksPerChunk
            let count = min(blocksPerChunk, blockCount - first)
            guard count > 0 else { return }
            layout.dequantize(source + first * layout.byteCount, blockCount: count,
                              into: destination + first * layout.valueCount)
        }
    }
}
