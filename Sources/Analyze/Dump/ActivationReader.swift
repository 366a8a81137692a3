import Foundation
import Shared

/// Reads prompt rows of one large dataset (z, resid, attention, attention_pattern) into fp32
/// memory. A contiguous dataset (every dump as captured) is read with positioned reads straight
/// from the file, from any number of threads at once; a chunked one (a packed dump) goes
/// through HDF5. float16 activations are widened on the way.
final class ActivationReader: @unchecked Sendable {
    let path: String
    private let dataset: HDF5Dataset
    private let raw: HDF5RawStorage?
    private let descriptor: Int32
    /// Elements of one prompt row (all axes after the first).
    let rowElements: Int
    /// Elements of one captured position (all axes after the first two): what
    /// `firstPositionOnly` reads per row.
    let positionElements: Int

    init(file: DumpFile, dataset name: String) throws {
        path = file.path
        dataset = try file.dataset(name)
        raw = dataset.rawStorage
        let shape = dataset.shape
        rowElements = shape.dropFirst().reduce(1, *)
        positionElements = shape.count > 2 ? shape.dropFirst(2).reduce(1, *) : rowElements
        descriptor = raw == nil ? -1 : open(file.path, O_RDONLY)
        if raw != nil && descriptor < 0 {
            throw InputError(file: file.path, "cannot be opened for reading: \(String(cString: strerror(errno)))")
        }
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// Reads rows `rows` (all of each row, or only its first captured position) into `target`,
    /// which holds rows.count * (rowElements or positionElements) floats.
    func read(rows: Range<Int>, firstPositionOnly: Bool = false, into target: UnsafeMutablePointer<Float>) throws {
        let block = firstPositionOnly ? positionElements : rowElements
        guard let raw else {
            var count = dataset.shape
            count[0] = rows.count
            if firstPositionOnly && count.count > 2 { count[1] = 1 }
            let slab = HDF5Hyperslab(start: [rows.lowerBound] + Array(repeating: 0, count: count.count - 1), count: count)
            try dataset.read(into: UnsafeMutableBufferPointer(start: target, count: rows.count * block), at: slab)
            return
        }
        if block == rowElements {
            try readRaw(at: raw.offset + rows.lowerBound * rowElements * raw.elementSize, elements: rows.count * block,
                        size: raw.elementSize, into: target)
        } else {
            for (i, row) in rows.enumerated() {
                try readRaw(at: raw.offset + row * rowElements * raw.elementSize, elements: block, size: raw.elementSize,
                            into: target + i * block)
            }
        }
    }

    /// The file bytes `read(rows:firstPositionOnly:)` reads, for read-ahead: one range per
    /// row with `firstPositionOnly`, else one; none for a chunked dataset (read through HDF5).
    func byteRanges(rows: Range<Int>, firstPositionOnly: Bool = false) -> [ReadAhead.Range] {
        guard let raw else { return [] }
        let rowBytes = rowElements * raw.elementSize
        if !firstPositionOnly || positionElements == rowElements {
            return [ReadAhead.Range(descriptor: descriptor, offset: raw.offset + rows.lowerBound * rowBytes, length: rows.count * rowBytes)]
        }
        return rows.map { ReadAhead.Range(descriptor: descriptor, offset: raw.offset + $0 * rowBytes, length: positionElements * raw.elementSize) }
    }

    private func readRaw(at offset: Int, elements: Int, size: Int, into target: UnsafeMutablePointer<Float>) throws {
        switch size {
        case 4:
            try readBytes(at: offset, count: elements * 4, into: UnsafeMutableRawPointer(target))
        case 2:
            // Halves land in the back half of the target, then widen front to back: element i
            // is read (at byte 2 * elements + 2 * i) before float i (bytes 4i..4i+3) overwrites it.
            let halves = UnsafeMutableRawPointer(target) + 2 * elements
            try readBytes(at: offset, count: elements * 2, into: halves)
            let source = halves.assumingMemoryBound(to: UInt16.self)
            for i in 0..<elements { target[i] = Float(Float16(bitPattern: source[i])) }
        default:
            throw InputError(file: path, "dataset \(dataset.path) has \(size)-byte elements, expected float32 or float16")
        }
    }

    private func readBytes(at offset: Int, count: Int, into buffer: UnsafeMutableRawPointer) throws {
        var done = 0
        while done < count {
            let n = pread(descriptor, buffer + done, count - done, off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw InputError(file: path, "dataset \(dataset.path) ends early: the file is truncated (\(n < 0 ? String(cString: strerror(errno)) : "end of file") at byte \(offset + done))")
            }
            done += n
        }
    }
}
