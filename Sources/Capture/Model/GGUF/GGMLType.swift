/// A tensor element type, numbered as ggml numbers them (ggml.h `enum ggml_type`; the gaps 4, 5,
/// 31-33 and 36-38 are types that were removed from the format).
///
/// Every known type has its block geometry so that any tensor's byte size can be checked; only
/// `isDequantizable` types can be turned into fp32.
public enum GGMLType: UInt32, Sendable, CaseIterable {
    case f32 = 0
    case f16 = 1
    case q4_0 = 2
    case q4_1 = 3
    case q5_0 = 6
    case q5_1 = 7
    case q8_0 = 8
    case q8_1 = 9
    case q2_K = 10
    case q3_K = 11
    case q4_K = 12
    case q5_K = 13
    case q6_K = 14
    case q8_K = 15
    case iq2_XXS = 16
    case iq2_XS = 17
    case iq3_XXS = 18
    case iq1_S = 19
    case iq4_NL = 20
    case iq3_S = 21
    case iq2_S = 22
    case iq4_XS = 23
    case i8 = 24
    case i16 = 25
    case i32 = 26
    case i64 = 27
    case f64 = 28
    case iq1_M = 29
    case bf16 = 30
    case tq1_0 = 34
    case tq2_0 = 35
    case mxfp4 = 39
    case nvfp4 = 40
    case q1_0 = 41

    /// ggml's name for the type, e.g. "Q4_1", "IQ2_XXS", "BF16".
    public var name: String {
        String(describing: self).uppercased()
    }

    /// Elements per block (1 for the plain scalar types).
    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16, .f64, .i8, .i16, .i32, .i64: 1
        case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q8_1, .iq4_NL, .mxfp4: 32
        case .nvfp4: 64
        case .q1_0: 128
        case .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .q8_K, .iq2_XXS, .iq2_XS, .iq3_XXS, .iq1_S, .iq3_S,
             .iq2_S, .iq4_XS, .iq1_M, .tq1_0, .tq2_0: 256
        }
    }

    /// Bytes per block, the `sizeof(block_...)` of ggml-common.h. The dequantizable quant types take
    /// theirs from the layouts in LegacyQuantBlocks.swift and KQuantBlocks.swift.
    public var bytesPerBlock: Int {
        switch self {
        case .f32, .i32: 4
        case .f16, .bf16, .i16: 2
        case .f64, .i64: 8
        case .i8: 1
        case .q4_0: BlockQ4_0.byteCount
        case .q4_1: BlockQ4_1.byteCount
        case .q5_0: BlockQ5_0.byteCount
        case .q5_1: BlockQ5_1.byteCount
        case .q8_0: BlockQ8_0.byteCount
        // ggml's block_q8_1 stores d and s as fp16 (36 bytes); gguf-py 0.19 still says 4 + 4 + 32.
        case .q8_1: 36
        case .q2_K: BlockQ2_K.byteCount
        case .q3_K: BlockQ3_K.byteCount
        case .q4_K: BlockQ4_K.byteCount
        case .q5_K: BlockQ5_K.byteCount
        case .q6_K: BlockQ6_K.byteCount
        case .q8_K: 4 + 256 + 32
        case .iq2_XXS: 2 + 64
        case .iq2_XS: 2 + 64 + 8
        case .iq3_XXS: 2 + 64 + 32
        case .iq1_S: 2 + 32 + 16
        case .iq4_NL: 2 + 16
        case .iq3_S: 2 + 64 + 32 + 8 + 4
        case .iq2_S: 2 + 64 + 16
        case .iq4_XS: 2 + 2 + 128 + 4
        case .iq1_M: 32 + 16 + 8
        case .tq1_0: 2 + 4 * 13
        case .tq2_0: 2 + 64
        case .mxfp4: 1 + 16
        case .nvfp4: 4 + 32
        case .q1_0: 2 + 16
        }
    }

    /// Whether `GGUFFile.dequantize` and `dequantize(_:elementCount:file:tensor:)` accept the type.
    public var isDequantizable: Bool {
        switch self {
        case .f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K: true
        default: false
        }
    }

    /// Bytes taken by `elementCount` elements, or nil when the count is not a whole number of
    /// blocks or the size does not fit in an Int.
    public func byteCount(elementCount: Int) -> Int? {
        guard elementCount >= 0, elementCount % blockSize == 0 else { return nil }
        let (bytes, overflow) = (elementCount / blockSize).multipliedReportingOverflow(by: bytesPerBlock)
        return overflow ? nil : bytes
    }
}
