// The K-quant super-blocks of 256 values (QK_K). Layouts follow ggml-common.h (block_q2_K ...
// block_q6_K), formulas ggml-quants.c `dequantize_row_q*_K` and gguf-py quants.py
// `dequantize_blocks`. Fields are little-endian; `ggml_half` is IEEE fp16. A super-block's values
// are split into sub-blocks that each have a small integer scale (and for some types a minimum),
// themselves scaled by the fp16 super-block scales d and dmin. The fp32 operations happen in
// numpy's order: (d · scale) · q - (dmin · min), so results equal gguf's bit for bit.

/// block_q2_K, 84 bytes for 256 values in 16 sub-blocks of 16: x = (d · sc) · q - (dmin · mn),
/// q in 0...3.
enum BlockQ2_K: QuantBlockLayout {
    static let valueCount = 256
    /// uint8 scales[16]: per sub-block, the scale in the low nibble and the minimum in the high one.
    static let scalesOffset = 0
    /// uint8 qs[64]: 2-bit quants. Values 128h + 32j + l (l < 32) are bits 2j..2j+1 of qs[32h + l].
    static let qsOffset = 16
    /// ggml_half d: the super-block scale of the scales.
    static let dOffset = 80
    /// ggml_half dmin: the super-block scale of the minimums.
    static let dminOffset = 82
    static let byteCount = dminOffset + 2

    static func dequantize(_ source: UnsafeRawPointer, blockCount: Int, into destination: UnsafeMutablePointer<Float>) {
        for block in 0..<blockCount {
            let base = source + block * byteCount
            let out = destination + block * valueCount
            let d = HalfFloat.loadHalf(base, at: dOffset)
            let dmin = HalfFloat.loadHalf(base, at: dminOffset)
            let scales = (base + scalesOffset).assumingMemoryBound(to: UInt8.self)
            let qs = (base + qsOffset).assumingMemoryBound(to: UInt8.self)
            for half in 0..<2 {
                for shift in 0..<4 {
                    for group in 0..<2 {
                        let sub = half * 8 + shift * 2 + group
                        let scale = d * Float(scales[sub] & 0x0F)
                        let minimum = dmin * Float(scales[sub] >> 4)
                        let q = qs + half * 32 + group * 16
                        let o = out + sub * 16
                        for l in 0..<16 {
                            o[l] = scale * Float((q[l] >> UInt8(2 * shift)) & 3) - minimum
                        }
                    }
                }
            }
        }
    }
}

/// block_q3_K, 110 bytes for 256 values in 16 sub-blocks of 16: x = (d · (sc - 32)) · (q - 4·(1 - h)),
/// q in 0...3 and h the value's bit in hmask.
enum BlockQ3_K: QuantBlockLayout {
    static let valueCount = 256
    /// uint8 hmask[32]: the high bits; value 32k + l is bit k of hmask[l]. A clear bit subtracts 4.
    static let hmaskOffset = 0
    /// uint8 qs[64]: the low 2 bits, arranged as in Q2_K.
    static let qsOffset = 32
    /// uint8 scales[12]: sixteen 6-bit scales. Scale k's low 4 bits are the low (k < 8) or high
    /// (k ≥ 8) nibble of byte k % 8; its high 2 bits are bits 2(k / 4)... of byte 8 + k % 4.
    static let scalesOffset = 96
    /// ggml_half d: the super-block scale.
    static let dOffset = 108
    static let byteCount = dOffset + 2

    static func dequantize(_ source: UnsafeRawPointer, blockCount: Int, into destination: UnsafeMutablePointer<Float>) {
        for block in 0..<blockCount {
            let base = source + block * byteCount
            let out = destination + block * valueCount
            let d = HalfFloat.loadHalf(base, at: dOffset)
            let hmask = (base + hmaskOffset).assumingMemoryBound(to: UInt8.self)
            let qs = (base + qsOffset).assumingMemoryBound(to: UInt8.self)
            let packed = (base + scalesOffset).assumingMemoryBound(to: UInt8.self)
            for half in 0..<2 {
                for shift in 0..<4 {
                    let highBit = half * 4 + shift
                    for group in 0..<2 {
                        let sub = half * 8 + shift * 2 + group
                        let low = sub < 8 ? packed[sub] & 0x0F : packed[sub - 8] >> 4
                        let high = (packed[8 + sub % 4] >> UInt8(2 * (sub / 4))) & 3
                        let scale = d * Float(Int32(low | high << 4) - 32)
                        let o = out + sub * 16
                        for l in 0..<16 {
                            let column = group * 16 + l
                            let q = Int32((qs[half * 32 + column] >> UInt8(2 * shift)) & 3)
                            let offset: Int32 = (hmask[column] >> UInt8(highBit)) & 1 == 0 ? 4 : 0
                            o[l] = scale * Float(q - offset)
                        }
                    }
                }
            }
        }
    }
}

/// The 6-bit scales and minimums of Q4_K and Q5_K, 8 of each packed in 12 bytes
/// (ggml-quants.c `get_scale_min_k4`): for j < 4 scale j is bytes[j] & 63 and minimum j is
/// bytes[j + 4] & 63; for j ≥ 4 the low 4 bits come from the nibbles of bytes[j + 4] and the high
/// 2 bits from the top bits of bytes[j - 4] (scale) and bytes[j] (minimum).
enum KQuantScaleMin {
    static let byteCount = 12

    @inline(__always)
    static func unpack(_ bytes: UnsafePointer<UInt8>, _ j: Int) -> (scale: UInt8, minimum: UInt8) {
        if j < 4 {
            return (bytes[j] & 63, bytes[j + 4] & 63)
        }
        return ((bytes[j + 4] & 0x0F) | (bytes[j - 4] >> 6) << 4, (bytes[j + 4] >> 4) | (bytes[j] >> 6) << 4)
    }
}

/// block_q4_K, 144 bytes for 256 values in 8 sub-blocks of 32: x = (d · sc) · q - (dmin · mn),
/// q in 0...15.
enum BlockQ4_K: QuantBlockLayout {
    static let valueCount = 256
    /// ggml_half d: the super-block scale of the scales.
    static let dOffset = 0
    /// ggml_half dmin: the super-block scale of the minimums.
    static let dminOffset = 2
    /// uint8 scales[12]: 8 scales and 8 minimums, 6 bits each (KQuantScaleMin).
    static let scalesOffset = 4
    /// uint8 qs[128]: 4-bit quants. Sub-blocks 2c and 2c + 1 are the low and high nibbles of
    /// qs[32c ..< 32c + 32].
    static let qsOffset = 16
    static let byteCount = qsOffset + 128

    static func dequantize(_ source: UnsafeRawPointer, blockCount: Int, into destination: UnsafeMutablePointer<Float>) {
        for block in 0..<blockCount {
            let base = source + block * byteCount
            let out = destination + block * valueCount
            let d = HalfFloat.loadHalf(base, at: dOffset)
            let dmin = HalfFloat.loadHalf(base, at: dminOffset)
            let packed = (base + scalesOffset).assumingMemoryBound(to: UInt8.self)
            let qs = (base + qsOffset).assumingMemoryBound(to: UInt8.self)
            for sub in 0..<8 {
                let (sc, mn) = KQuantScaleMin.unpack(packed, sub)
                let scale = d * Float(sc)
                let minimum = dmin * Float(mn)
                let q = qs + (sub / 2) * 32
                let shift = UInt8(4 * (sub % 2))
                let o = out + sub * 32
                for l in 0..<32 {
                    o[l] = scale * Float((q[l] >> shift) & 0x0F) - minimum
                }
            }
        }
    }
}

/// block_q5_K, 176 bytes for 256 values in 8 sub-blocks of 32: x = (d · sc) · q - (dmin · mn),
/// q in 0...31.
enum BlockQ5_K: QuantBlockLayout {
    static let valueCount = 256
    /// ggml_half d: the super-block scale of the scales.
    static let dOffset = 0
    /// ggml_half dmin: the super-block scale of the minimums.
    static let dminOffset = 2
    /// uint8 scales[12]: 8 scales and 8 minimums, 6 bits each (KQuantScaleMin).
    static let scalesOffset = 4
    /// uint8 qh[32]: the fifth bits; value 32s + l is bit s of qh[l].
    static let qhOffset = 16
    /// uint8 qs[128]: the low 4 bits, arranged as in Q4_K.
    static let qsOffset = 48
    static let byteCount = qsOffset + 128

    static func dequantize(_ source: UnsafeRawPointer, blockCount: Int, into destination: UnsafeMutablePointer<Float>) {
        for block in 0..<blockCount {
            let base = source + block * byteCount
            let out = destination + block * valueCount
            let d = HalfFloat.loadHalf(base, at: dOffset)
            let dmin = HalfFloat.loadHalf(base, at: dminOffset)
            let packed = (base + scalesOffset).assumingMemoryBound(to: UInt8.self)
            let qh = (base + qhOffset).assumingMemoryBound(to: UInt8.self)
            let qs = (base + qsOffset).assumingMemoryBound(to: UInt8.self)
            for sub in 0..<8 {
                let (sc, mn) = KQuantScaleMin.unpack(packed, sub)
                let scale = d * Float(sc)
                let minimum = dmin * Float(mn)
                let q = qs + (sub / 2) * 32
                let shift = UInt8(4 * (sub % 2))
                let o = out + sub * 32
                for l in 0..<32 {
                    let value = (q[l] >> shift) & 0x0F | ((qh[l] >> UInt8(sub)) & 1) << 4
                    o[l] = scale * Float(value) - minimum
                }
            }
        }
    }
}

/// block_q6_K, 210 bytes for 256 values in 16 sub-blocks of 16: x = (d · sc) · (q - 32), q in 0...63.
enum BlockQ6_K: QuantBlockLayout {
    static let valueCount = 256
    /// uint8 ql[128]: the low 4 bits. Value 128h + 32j + l (l < 32) is nibble j / 2 of
    /// ql[64h + 32(j % 2) + l].
    static let qlOffset = 0
    /// uint8 qh[64]: the high 2 bits. Value 128h + 32j + l is bits 2j..2j+1 of qh[32h + l].
    static let qhOffset = 128
    /// int8 scales[16]: one signed scale per sub-block.
    static let scalesOffset = 192
    /// ggml_half d: the super-block scale.
    static let dOffset = 208
    static let byteCount = dOffset + 2

    static func dequantize(_ source: UnsafeRawPointer, blockCount: Int, into destination: UnsafeMutablePointer<Float>) {
        for block in 0..<blockCount {
            let base = source + block * byteCount
            let out = destination + block * valueCount
            let d = HalfFloat.loadHalf(base, at: dOffset)
            let ql = (base + qlOffset).assumingMemoryBound(to: UInt8.self)
            let qh = (base + qhOffset).assumingMemoryBound(to: UInt8.self)
            let scales = (base + scalesOffset).assumingMemoryBound(to: Int8.self)
            for half in 0..<2 {
                for quarter in 0..<4 {
                    let low = ql + half * 64 + (quarter % 2) * 32
                    let lowShift = UInt8(4 * (quarter / 2))
                    let high = qh + half * 32
                    let highShift = UInt8(2 * quarter)
                    for group in 0..<2 {
                        let sub = half * 8 + quarter * 2 + group
                        let scale = d * Float(scales[sub])
                        let o = out + sub * 16
                        for l in 0..<16 {
                            let column = group * 16 + l
                            let q = (low[column] >> lowShift) & 0x0F | ((high[column] >> highShift) & 3) << 4
                            o[l] = scale * Float(Int32(q) - 32)
                        }
                    }
                }
            }
        }
    }
}
