import CHDF5

/// Raw attribute reads and writes behind the `HDF5Object` attribute methods.
enum HDF5AttributeIO {
    static func write(_ value: HDF5AttributeValue, name: String, on object: hid_t, failure: () -> Error) throws {
        switch value {
        case .string(let value): try writeStrings([value], shape: [], name: name, on: object, failure: failure)
        case .strings(let values): try writeStrings(values, shape: [values.count], name: name, on: object, failure: failure)
        case .int(let value): try writeNumbers([Int64(value)], shape: [], type: .int64, name: name, on: object, failure: failure)
        case .ints(let values):
            try writeNumbers(values.map(Int64.init), shape: [values.count], type: .int64, name: name, on: object, failure: failure)
        case .double(let value): try writeNumbers([value], shape: [], type: .float64, name: name, on: object, failure: failure)
        case .doubles(let values): try writeNumbers(values, shape: [values.count], type: .float64, name: name, on: object, failure: failure)
        }
    }

    /// Integers read as Int, floats as Double, strings of either length as String; a scalar
    /// dataspace gives the scalar case, anything else (flattened) the array case.
    static func read(_ attribute: hid_t, failure: (String) -> Error) throws -> HDF5AttributeValue {
        let space = H5Aget_space(attribute), type = H5Aget_type(attribute)
        defer {
            H5Sclose(space)
            H5Tclose(type)
        }
        let scalar = H5Sget_simple_extent_type(space) == H5S_SCALAR
        let count = max(0, Int(H5Sget_simple_extent_npoints(space)))
        let read = { (memoryType: hid_t, buffer: UnsafeMutableRawPointer) in H5Aread(attribute, memoryType, buffer) }
        switch H5Tget_class(type) {
        case H5T_INTEGER:
            var values = [Int64](repeating: 0, count: count)
            guard count == 0 || values.withUnsafeMutableBytes({ read(icl_H5T_NATIVE_INT64(), $0.baseAddress!) }) >= 0
            else { throw failure("") }
            return scalar ? .int(Int(values[0])) : .ints(values.map { Int($0) })
        case H5T_FLOAT:
            var values = [Double](repeating: 0, count: count)
            guard count == 0 || values.withUnsafeMutableBytes({ read(icl_H5T_NATIVE_DOUBLE(), $0.baseAddress!) }) >= 0
            else { throw failure("") }
            return scalar ? .double(values[0]) : .doubles(values)
        case H5T_STRING:
            guard count > 0 else { return .strings([]) }
            let values = try HDF5StringCodec.read(type: type, space: space, count: count, { read(type, $0) }) { failure("") }
            return scalar ? .string(values[0]) : .strings(values)
        default:
            throw failure(": unsupported type \(HDF5TypeIDs.elementType(of: type))")
        }
    }

    private static func writeNumbers<Element>(_ values: [Element], shape: [Int], type: HDF5ElementType, name: String,
                                              on object: hid_t, failure: () -> Error) throws {
        let attribute = try create(name, on: object, type: HDF5TypeIDs.fileType(type)!, shape: shape, failure: failure)
        defer { H5Aclose(attribute) }
        guard !values.isEmpty else { return }
        let status = values.withUnsafeBytes { H5Awrite(attribute, HDF5TypeIDs.memoryType(type)!, $0.baseAddress) }
        guard status >= 0 else { throw failure() }
    }

    private static func writeStrings(_ values: [String], shape: [Int], name: String, on object: hid_t,
                                     failure: () -> Error) throws {
        let type = HDF5TypeIDs.makeStringType(bytes: nil)
        defer { H5Tclose(type) }
        let attribute = try create(name, on: object, type: type, shape: shape, failure: failure)
        defer { H5Aclose(attribute) }
        guard !values.isEmpty else { return }
        let status = HDF5StringCodec.withVariableLength(values) { pointers in
            pointers.withUnsafeBytes { H5Awrite(attribute, type, $0.baseAddress) }
        }
        guard status >= 0 else { throw failure() }
    }

    private static func create(_ name: String, on object: hid_t, type: hid_t, shape: [Int], failure: () -> Error) throws -> hid_t {
        let space = HDF5Dataspace.make(shape)
        defer { H5Sclose(space) }
        let attribute = H5Acreate2(object, name, type, space, icl_H5P_DEFAULT, icl_H5P_DEFAULT)
        guard attribute >= 0 else { throw failure() }
        return attribute
    }
}
