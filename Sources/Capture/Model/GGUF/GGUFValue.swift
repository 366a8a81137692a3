/// The type tag of a GGUF metadata value (gguf.md `enum gguf_metadata_value_type`), stored as a u32.
public enum GGUFValueType: UInt32, Sendable, CaseIterable {
    case uint8 = 0
    case int8 = 1
    case uint16 = 2
    case int16 = 3
    case uint32 = 4
    case int32 = 5
    case float32 = 6
    /// One byte, 0 or 1.
    case bool = 7
    /// u64 byte length, then UTF-8 bytes without a terminator.
    case string = 8
    /// u32 element type, u64 element count, then the elements, all of that one type.
    case array = 9
    case uint64 = 10
    case int64 = 11
    case float64 = 12

    public var name: String { String(describing: self) }

    /// Bytes of one value of a fixed-size type; nil for strings and arrays.
    var fixedSize: Int? {
        switch self {
        case .uint8, .int8, .bool: 1
        case .uint16, .int16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64: 8
        case .string, .array: nil
        }
    }

    /// The fewest bytes a value of this type can take: bounds array counts before anything is allocated.
    var minimumSize: Int {
        switch self {
        case .string: 8
        case .array: 12
        default: fixedSize ?? 1
        }
    }
}

/// One GGUF metadata value.
public indirect enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8)
    case int8(Int8)
    case uint16(UInt16)
    case int16(Int16)
    case uint32(UInt32)
    case int32(Int32)
    case float32(Float)
    case bool(Bool)
    case string(String)
    /// The element type is kept so that an empty array still says what it holds.
    case array(elementType: GGUFValueType, [GGUFValue])
    case uint64(UInt64)
    case int64(Int64)
    case float64(Double)

    public var type: GGUFValueType {
        switch self {
        case .uint8: .uint8
        case .int8: .int8
        case .uint16: .uint16
        case .int16: .int16
        case .uint32: .uint32
        case .int32: .int32
        case .float32: .float32
        case .bool: .bool
        case .string: .string
        case .array: .array
        case .uint64: .uint64
        case .int64: .int64
        case .float64: .float64
        }
    }

    /// The type as error messages name it, e.g. "uint32" or "array of string".
    public var typeDescription: String {
        if case .array(let elementType, _) = self { return "array of \(elementType.name)" }
        return type.name
    }

    /// The value of any integer type, when it fits in an Int.
    public var intValue: Int? {
        switch self {
        case .uint8(let v): Int(v)
        case .int8(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint64(let v): Int(exactly: v)
        case .int64(let v): Int(exactly: v)
        default: nil
        }
    }

    /// True for the integer types, whether or not the value fits in an Int.
    public var isInteger: Bool { type.isInteger }

    /// The value of a float type, or of an integer type rounded to the nearest Float.
    public var floatValue: Float? {
        switch self {
        case .float32(let v): v
        case .float64(let v): Float(v)
        case .uint64(let v): Float(v)
        case .int64(let v): Float(v)
        default: intValue.map(Float.init)
        }
    }
}

extension GGUFValueType {
    /// True for the eight integer types.
    public var isInteger: Bool {
        switch self {
        case .uint8, .int8, .uint16, .int16, .uint32, .int32, .uint64, .int64: true
        default: false
        }
    }
}
