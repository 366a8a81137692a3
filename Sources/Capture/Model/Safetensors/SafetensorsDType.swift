/// The element types this tool reads from safetensors files. The format defines more (F64, I8,
/// U8, BOOL, F8_E4M3, ...); real language-model checkpoints store weights as F32, F16 or BF16,
/// so the others are rejected when a file is opened.
public enum SafetensorsDType: String, Sendable, CaseIterable {
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"
    case i32 = "I32"
    case i64 = "I64"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .f16, .bf16: 2
        case .f32, .i32: 4
        case .i64: 8
        }
    }

    public var isFloatingPoint: Bool {
        switch self {
        case .f32, .f16, .bf16: true
        case .i32, .i64: false
        }
    }
}

/// Where one tensor lies in a safetensors file, validated against the file's size when it was opened.
public struct SafetensorsTensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: SafetensorsDType
    public let shape: [Int]
    /// Absolute byte offsets in the file (the header's `data_offsets` plus 8 plus the header length).
    public let byteRange: Range<Int>

    public init(name: String, dtype: SafetensorsDType, shape: [Int], byteRange: Range<Int>) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.byteRange = byteRange
    }

    /// The product of the shape: 1 for a scalar, 0 when any dimension is 0.
    public var elementCount: Int { byteRange.count / dtype.byteSize }
}
