import CHDF5

/// The value of an attribute, as this layer writes and reads it: UTF-8 strings (variable
/// length), 64-bit integers and doubles, each scalar or 1-D.
public enum HDF5AttributeValue: Sendable, Hashable {
    case string(String), strings([String])
    case int(Int), ints([Int])
    case double(Double), doubles([Double])
}

/// Swift values stored as attributes: String, Int, Double and arrays of them.
public protocol HDF5AttributeConvertible {
    var hdf5AttributeValue: HDF5AttributeValue { get }
    /// nil when `value` holds another kind of data. A one-element array reads as a scalar
    /// and a scalar as a one-element array; integers read as Double too.
    init?(hdf5AttributeValue value: HDF5AttributeValue)
}

/// The element types of array attributes.
public protocol HDF5AttributeScalar: HDF5AttributeConvertible {
    static func hdf5AttributeValue(_ array: [Self]) -> HDF5AttributeValue
    static func elements(of value: HDF5AttributeValue) -> [Self]?
}

extension HDF5AttributeScalar {
    public init?(hdf5AttributeValue value: HDF5AttributeValue) {
        guard let elements = Self.elements(of: value), elements.count == 1 else { return nil }
        self = elements[0]
    }
}

extension String: HDF5AttributeScalar {
    public var hdf5AttributeValue: HDF5AttributeValue { .string(self) }
    public static func hdf5AttributeValue(_ array: [String]) -> HDF5AttributeValue { .strings(array) }
    public static func elements(of value: HDF5AttributeValue) -> [String]? {
        switch value {
        case .string(let value): [value]
        case .strings(let values): values
        default: nil
        }
    }
}

extension Int: HDF5AttributeScalar {
    public var hdf5AttributeValue: HDF5AttributeValue { .int(self) }
    public static func hdf5AttributeValue(_ array: [Int]) -> HDF5AttributeValue { .ints(array) }
    public static func elements(of value: HDF5AttributeValue) -> [Int]? {
        switch value {
        case .int(let value): [value]
        case .ints(let values): values
        default: nil
        }
    }
}

extension Double: HDF5AttributeScalar {
    public var hdf5AttributeValue: HDF5AttributeValue { .double(self) }
    public static func hdf5AttributeValue(_ array: [Double]) -> HDF5AttributeValue { .doubles(array) }
    public static func elements(of value: HDF5AttributeValue) -> [Double]? {
        switch value {
        case .double(let value): [value]
        case .doubles(let values): values
        case .int(let value): [Double(value)]
        case .ints(let values): values.map(Double.init)
        default: nil
        }
    }
}

extension Array: HDF5AttributeConvertible where Element: HDF5AttributeScalar {
    public var hdf5AttributeValue: HDF5AttributeValue { Element.hdf5AttributeValue(self) }
    public init?(hdf5AttributeValue value: HDF5AttributeValue) {
        guard let elements = Element.elements(of: value) else { return nil }
        self = elements
    }
}

extension HDF5Object {
    /// Sets attribute `name`, replacing any attribute of that name.
    public func setAttribute(_ name: String, _ value: some HDF5AttributeConvertible) throws {
        let location = self.location, file = location.file
        try HDF5Library.serialized {
            try file.ensureWritable("set attribute '\(name)' of \(location.path)")
            let problem = "cannot write attribute '\(name)' of \(location.path)"
            if H5Aexists(location.id, name) > 0 {
                try HDF5Error.check(H5Adelete(location.id, name), file: file.path, problem)
            }
            try HDF5AttributeIO.write(value.hdf5AttributeValue, name: name, on: location.id) { HDF5Error.make(file: file.path, problem) }
        }
    }

    /// Reads attribute `name` as `type`.
    public func attribute<T: HDF5AttributeConvertible>(_ name: String, as type: T.Type = T.self) throws -> T {
        let value = try attribute(name)
        guard let converted = T(hdf5AttributeValue: value) else {
            throw InputError(file: location.file.path, "attribute '\(name)' of \(location.path) is \(value), not \(T.self)")
        }
        return converted
    }

    /// Reads attribute `name`, whatever it holds.
    public func attribute(_ name: String) throws -> HDF5AttributeValue {
        let location = self.location, file = location.file
        return try HDF5Library.serialized {
            try file.ensureOpen()
            let problem = "cannot read attribute '\(name)' of \(location.path)"
            let attribute = try HDF5Error.check(H5Aopen(location.id, name, icl_H5P_DEFAULT), file: file.path, problem)
            defer { H5Aclose(attribute) }
            return try HDF5AttributeIO.read(attribute) { HDF5Error.make(file: file.path, problem + $0) }
        }
    }

    public func hasAttribute(_ name: String) throws -> Bool {
        let location = self.location, file = location.file
        return try HDF5Library.serialized {
            try file.ensureOpen()
            let exists = H5Aexists(location.id, name)
            try HDF5Error.check(exists, file: file.path, "cannot look up attribute '\(name)' of \(location.path)")
            return exists > 0
        }
    }

    /// Names of all attributes, sorted.
    public func attributeNames() throws -> [String] {
        let location = self.location, file = location.file
        return try HDF5Library.serialized {
            try file.ensureOpen()
            var names: [String] = []
            let status = withUnsafeMutablePointer(to: &names) { pointer in
                H5Aiterate2(location.id, H5_INDEX_NAME, H5_ITER_INC, nil, { _, name, _, context in
                    guard let name, let context else { return -1 }
                    context.assumingMemoryBound(to: [String].self).pointee.append(String(cString: name))
                    return 0
                }, pointer)
            }
            try HDF5Error.check(status, file: file.path, "cannot list attributes of \(location.path)")
            return names
        }
    }
}

/// An attribute value read from one object and written to another as it is (copying files).
extension HDF5AttributeValue: HDF5AttributeConvertible {
    public var hdf5AttributeValue: HDF5AttributeValue { self }
    public init?(hdf5AttributeValue value: HDF5AttributeValue) { self = value }
}
