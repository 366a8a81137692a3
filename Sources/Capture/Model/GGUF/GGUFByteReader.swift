import Shared

/// A cursor over the mapped file that reads GGUF's little-endian fields and never reads past the
/// end: every read checks the bytes it needs and otherwise throws an InputError that says what was
/// being read, where, and how long the file is.
struct GGUFByteReader {
    let bytes: UnsafeRawBufferPointer
    let file: String
    private(set) var offset = 0

    init(bytes: UnsafeRawBufferPointer, file: String) {
        self.bytes = bytes
        self.file = file
    }

    var remaining: Int { bytes.count - offset }

    func error(_ problem: String) -> InputError {
        InputError(file: file, problem)
    }

    /// The next `count` bytes; `what` names them in the truncation error.
    mutating func take(_ count: Int, for what: @autoclosure () -> String) throws -> UnsafeRawBufferPointer {
        guard count >= 0, count <= remaining else {
            throw error("truncated: \(what()) needs \(count) bytes at offset \(offset), but the file ends at \(bytes.count)")
        }
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
        offset += count
        return slice
    }

    mutating func uint8(for what: @autoclosure () -> String) throws -> UInt8 {
        try take(1, for: what()).load(as: UInt8.self)
    }

    mutating func uint16(for what: @autoclosure () -> String) throws -> UInt16 {
        UInt16(littleEndian: try take(2, for: what()).loadUnaligned(as: UInt16.self))
    }

    mutating func uint32(for what: @autoclosure () -> String) throws -> UInt32 {
        UInt32(littleEndian: try take(4, for: what()).loadUnaligned(as: UInt32.self))
    }

    mutating func uint64(for what: @autoclosure () -> String) throws -> UInt64 {
        UInt64(littleEndian: try take(8, for: what()).loadUnaligned(as: UInt64.self))
    }

    /// A GGUF string: u64 byte count, then that many bytes of UTF-8.
    mutating func string(for what: @autoclosure () -> String) throws -> String {
        let length = try uint64(for: "the length of \(what())")
        guard length <= UInt64(remaining) else {
            throw error("\(what()) has length \(length) at offset \(offset - 8), past the end of the file (\(bytes.count) bytes)")
        }
        let utf8 = try take(Int(length), for: what()).assumingMemoryBound(to: UInt8.self)
        guard let text = String(validating: utf8, as: UTF8.self) else {
            throw error("\(what()) at offset \(offset - Int(length)) is not valid UTF-8")
        }
        return text
    }
}
