/// The 16-bit float formats found in GGUF tensors and quant-block scales, widened to fp32.
/// Both widenings are exact, so any correct implementation gives the same bits.
enum HalfFloat {
    /// IEEE binary16 → binary32. NaN payloads are kept bit for bit (shifted into place, not
    /// quieted), as numpy's float16 → float32 cast does, so fixtures compare bit for bit.
    @inline(__always)
    static func float(fromHalfBits bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x03FF)
        if exponent == 0x1F {
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        if exponent != 0 {
            // Rebias the exponent from 15 to 127.
            return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
        }
        // Zero or subnormal: mantissa · 2^-24, exact in fp32.
        let magnitude = Float(mantissa) * 0x1p-24
        return sign == 0 ? magnitude : -magnitude
    }

    /// bfloat16 → binary32: bfloat16 is the top half of an fp32 bit pattern.
    @inline(__always)
    static func float(fromBFloat16Bits bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// The little-endian fp16 at `offset` bytes into `pointer`, widened.
    @inline(__always)
    static func loadHalf(_ pointer: UnsafeRawPointer, at offset: Int) -> Float {
        float(fromHalfBits: UInt16(littleEndian: pointer.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }
}
