// The original 32-value ggml quant blocks. Layouts follow ggml-common.h (block_q4_0 ... block_q8_0),
// formulas ggml-quants.c `dequantize_row_*` and gguf-py quants.py `dequantize_blocks`. All fields are
// little-endian; `ggml_half` is IEEE fp16. In every 4-bit layout byte j of qs holds value j in its
// low nibble and value j + 16 in its high nibble. Each product and sum is one fp32 operation in the
// same order as numpy's, so results equal gguf's bit for bit.

/// block_q4_0, 18 bytes for 32 values: x = d · (q - 8), q in 0...15.
enum BlockQ4_0: QuantBlockLayout {
    static let valueCount = 32
    /// ggml_half d: the scale.
    static let dOffset = 0
    /// uint8 qs[16]: the 4-bit quants.
    static let qsOffset = 2
    static let byteCount = qsOffset + 16

    static func dequantize(_ source: UnsafeRawPointer, blockCount: Int, into destination: UnsafeMutablePointer<Float>) {
        for block in 0..<blockCount {
            let base = source + block * byteCount
            let out = destination + block * valueCount
            let d = HalfFloat.loadHalf(base, at: dOffset)
            let qs = (base + qsOffset).assumingMemoryBound(to: UInt8.self)
            for j in 0..<16 {
                out[j] = d * Float(Int32(qs[j] & 0x0F) - 8)
                out[j + 16] = d * Float(Int32(qs[j] >> 4) - 8)
            }
        }
    }
}

/// block_q4_1, 20 bytes for 32 values: x = d · q + m, q in 0...15.
enum BlockQ4_1: QuantBlockLayout {
    static let valueCount = 32
    /// ggml_half d: the scale.
    static let dOffset = 0
    /// ggml_half m: the minimum, added to every value.
    static let mOffset = 2
    /// uint8 qs[16]: the 4-bit quants.
    static let qsOffset = 4
    static let byteCount = qsOffset + 16

    static func dequantize(_ source: UnsafeRawPointer, blockCount: Int, into destination: UnsafeMutablePointer<Float>) {
        for block in 0..<blockCount {
            let base = source + block * byteCount
            let out = destination + block * valueCount
            let d = HalfFloat.loadHalf(base, at: dOffset)
            let m = HalfFloat.loadHalf(base, at: mOffset)
            let qs = (base + qsOffset).assumingMemoryBound(to: UInt8.self)
            for j in 0..<16 {
                out[j] = d * Float(qs[j] & 0x0F) + m
                out[j + 16] = d * Float(qs[j] >> 4) + m
            }
        }
    }
}

/// block_q5_0, 22 bytes for 32 values: x = d · (q - 16), q in 0...31; the fifth bit of value j is
/// bit j of qh.
enum BlockQ5_0: QuantBlockLayout {
    static let valueCount = 32
    /// ggml_half d: the scale.
    static let dOffset = 0
    /// uint8 qh[4]: the fifth bits, read as one little-endian u32.
    static let qhOffset = 2
    /// uint8 qs[16]: the low 4 bits.
    static let qsOffset = 6
    static let byteCount = qsOffset + 16

    static func dequantize(_ source: UnsafeRawPointer, blockCount: Int, into destination: UnsafeMutablePointer<Float>) {
        for block in 0..<blockCount {
            let base = source + block * byteCount
            let out = destination + block * valueCount
            let d = HalfFloat.loadHalf(base, at: dOffset)
            let qh = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: qhOffset, as: UInt32.self))
            let qs = (base + qsOffset).assumingMemoryBound(to: UInt8.self)
            for j in 0..<16 {
                let low = Int32(qs[j] & 0x0F) | Int32((qh >> UInt32(j)) & 1) << 4
                let high = Int32(qs[j] >> 4) | Int32((qh >> UInt32(j + 16)) & 1) << 4
                out[j] = d * Float(low - 16)
                out[j + 16] = d * Float(high - 16)
            }
        }
    }
}

/// block_q5_1, 24 bytes for 32 values: x = d · q + m, q in 0...31; the fifth bit of value j is
/// bit j of qh.
enum BlockQ5_1: QuantBlockLayout {
    static let valueCount = 32
    /// ggml_half d: the scale.
    static let dOffset = 0
    /// ggml_half m: the minimum, added to every value.
    static let mOffset = 2
    /// uint8 qh[4]: the fifth bits, read as one little-endian u32.
    static let qhOffset = 4
    /// uint8 qs[16]: the low 4 bits.
    static let qsOffset = 8
    static let byteCount = qsOffset + 16

    static func dequantize(_ source: UnsafeRawPointer, blockCount: Int, into destination: UnsafeMutablePointer<Float>) {
        for block in 0..<blockCount {
            let base = source + block * byteCount
            let out = destination + block * valueCount
            let d = HalfFloat.loadHalf(base, at: dOffset)
            let m = HalfFloat.loadHalf(base, at: mOffset)
            let qh = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: qhOffset, as: UInt32.self))
            let qs = (base + qsOffset).assumingMemoryBound(to: UInt8.self)
            for j in 0..<16 {
                let low = UInt32(qs[j] & 0x0F) | ((qh >> UInt32(j)) & 1) << 4
                let high = UInt32(qs[j] >> 4) | ((qh >> UInt32(j + 16)) & 1) << 4
                out[j] = d * Float(low) + m
                out[j + 16] = d * Float(high) + m
            }
        }
    }
}

/// block_q8_0, 34 bytes for 32 values: x = q · d, q a signed byte.
enum BlockQ8_0: QuantBlockLayout {
    static let valueCount = 32
    /// ggml_half d: the scale.
    static let dOffset = 0
    /// int8 qs[32]: the quants, value j in byte j.
    static let qsOffset = 2
    static let byteCount = qsOffset + 32

    static func dequantize(_ source: UnsafeRawPointer, blockCount: Int, into destination: UnsafeMutablePointer<Float>) {
        for block in 0..<blockCount {
            let base = source + block * byteCount
            let out = destination + block * valueCount
            let d = HalfFloat.loadHalf(base, at: dOffset)
            let qs = (base + qsOffset).assumingMemoryBound(to: Int8.self)
            for j in 0..<32 {
                out[j] = Float(qs[j]) * d
            }
        }
    }
}
