import CHDF5

/// The element type of a dataset as stored in the file.
public enum HDF5ElementType: Sendable, Hashable, CustomStringConvertible {
    /// IEEE 754 binary16 (numpy float16).
    case float16
    case float32, float64
    case int8, uint8, int32, int64
    /// UTF-8 text padded with NULs to a fixed number of bytes.
    case fixedLengthString(bytes: Int)
    /// UTF-8 text of any length (stored in the file's global heap).
    case variableLengthString
    /// Anything else found in a file written by other tools; described, not readable here.
    case unsupported(String)

    public var description: String {
        switch self {
        case .float16: "float16"
        case .float32: "float32"
        case .float64: "float64"
        case .int8: "int8"
        case .uint8: "uint8"
        case .int32: "int32"
        case .int64: "int64"
        case .fixedLengthString(let bytes): "string[\(bytes) bytes]"
        case .variableLengthString: "string"
        case .unsupported(let what): "unsupported (\(what))"
        }
    }

    var isString: Bool {
        switch self {
        case .fixedLengthString, .variableLengthString: true
        default: false
        }
    }
}

/// A Swift type that HDF5 reads and writes directly from memory.
public protocol HDF5Element: BitwiseCopyable, Sendable {
    /// The element type this memory layout corresponds to.
    static var hdf5ElementType: HDF5ElementType { get }
}

extension Float16: HDF5Element { public static var hdf5ElementType: HDF5ElementType { .float16 } }
extension Float: HDF5Element { public static var hdf5ElementType: HDF5ElementType { .float32 } }
extension Double: HDF5Element { public static var hdf5ElementType: HDF5ElementType { .float64 } }
extension Int8: HDF5Element { public static var hdf5ElementType: HDF5ElementType { .int8 } }
extension UInt8: HDF5Element { public static var hdf5ElementType: HDF5ElementType { .uint8 } }
extension Int32: HDF5Element { public static var hdf5ElementType: HDF5ElementType { .int32 } }
extension Int64: HDF5Element { public static var hdf5ElementType: HDF5ElementType { .int64 } }

/// HDF5 type ids for element types. Ids of predefined types belong to the library; the half
/// type is created once and locked so nothing can close or modify it.
enum HDF5TypeIDs {
    static let float16: hid_t = HDF5Library.serialized {
        let id = icl_H5T_make_IEEE_F16LE()
        precondition(id >= 0, "HDF5 refused to build the IEEE half type")
        H5Tlock(id)
        return id
    }

    /// The little-endian type written to files, independent of the host.
    static func fileType(_ type: HDF5ElementType) -> hid_t? {
        switch type {
        case .float16: float16
        case .float32: icl_H5T_IEEE_F32LE()
        case .float64: icl_H5T_IEEE_F64LE()
        case .int8: icl_H5T_STD_I8LE()
        case .uint8: icl_H5T_STD_U8LE()
        case .int32: icl_H5T_STD_I32LE()
        case .int64: icl_H5T_STD_I64LE()
        case .fixedLengthString, .variableLengthString, .unsupported: nil
        }
    }

    /// The in-memory type of a numeric element (the half type is little-endian, as are the
    /// hosts this project targets).
    static func memoryType(_ type: HDF5ElementType) -> hid_t? {
        switch type {
        case .float16: float16
        case .float32: icl_H5T_NATIVE_FLOAT()
        case .float64: icl_H5T_NATIVE_DOUBLE()
        case .int8: icl_H5T_NATIVE_INT8()
        case .uint8: icl_H5T_NATIVE_UINT8()
        case .int32: icl_H5T_NATIVE_INT32()
        case .int64: icl_H5T_NATIVE_INT64()
        case .fixedLengthString, .variableLengthString, .unsupported: nil
        }
    }

    /// A new string type id (the caller closes it): UTF-8, NUL-padded when fixed-length.
    static func makeStringType(bytes: Int?) -> hid_t {
        let id = H5Tcopy(icl_H5T_C_S1())
        H5Tset_size(id, bytes.map { max(1, $0) } ?? icl_H5T_VARIABLE())
        H5Tset_cset(id, H5T_CSET_UTF8)
        if bytes != nil { H5Tset_strpad(id, H5T_STR_NULLPAD) }
        return id
    }

    /// Compares the bit layout rather than using H5Tequal, so halves written by other tools
    /// (h5py's float16) are recognised whatever their padding properties.
    private static func isLittleEndianHalf(_ id: hid_t) -> Bool {
        var sign = 0, exponentPosition = 0, exponentSize = 0, mantissaPosition = 0, mantissaSize = 0
        guard H5Tget_fields(id, &sign, &exponentPosition, &exponentSize, &mantissaPosition, &mantissaSize) >= 0
        else { return false }
        return (sign, exponentPosition, exponentSize, mantissaPosition, mantissaSize) == (15, 10, 5, 0, 10)
            && H5Tget_ebias(id) == 15 && H5Tget_order(id) == H5T_ORDER_LE
    }

    /// Classifies a type id found in a file.
    static func elementType(of id: hid_t) -> HDF5ElementType {
        let size = H5Tget_size(id)
        switch H5Tget_class(id) {
        case H5T_FLOAT:
            if size == 2, isLittleEndianHalf(id) { return .float16 }
            if size == 4 { return .float32 }
            if size == 8 { return .float64 }
            return .unsupported("\(size * 8)-bit float")
        case H5T_INTEGER:
            let signed = H5Tget_sign(id) == H5T_SGN_2
            switch (size, signed) {
            case (1, true): return .int8
            case (1, false): return .uint8
            case (4, true): return .int32
            case (8, true): return .int64
            default: return .unsupported("\(signed ? "" : "u")int\(size * 8)")
            }
        case H5T_STRING:
            return H5Tis_variable_str(id) > 0 ? .variableLengthString : .fixedLengthString(bytes: size)
        default:
            return .unsupported("HDF5 type class \(H5Tget_class(id).rawValue)")
        }
    }
}
