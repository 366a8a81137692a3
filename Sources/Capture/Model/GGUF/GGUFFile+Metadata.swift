import Shared

/// Typed access to metadata. The non-optional accessors throw when the key is missing; all of them
/// throw when the value has another type, naming the file, the key, the expected and the actual type.
extension GGUFFile {
    public func string(_ key: String) throws -> String {
        try required(key, optionalString(key))
    }

    public func optionalString(_ key: String) throws -> String? {
        try typed(key, expected: "string") { value in
            if case .string(let text) = value { return text }
            return nil
        }
    }

    /// Any integer type, when the value fits in an Int.
    public func int(_ key: String) throws -> Int {
        try required(key, optionalInt(key))
    }

    public func optionalInt(_ key: String) throws -> Int? {
        guard let value = metadata[key] else { return nil }
        guard value.isInteger else { throw mismatch(key, expected: "an integer", actual: value) }
        guard let int = value.intValue else {
            throw InputError(file: path, "metadata key \(key) has value \(value) outside the range of Int")
        }
        return int
    }

    /// float32 or float64, or an integer, rounded to the nearest Float.
    public func float(_ key: String) throws -> Float {
        try required(key, optionalFloat(key))
    }

    public func optionalFloat(_ key: String) throws -> Float? {
        try typed(key, expected: "a number") { $0.floatValue }
    }

    public func optionalBool(_ key: String) throws -> Bool? {
        try typed(key, expected: "bool") { value in
            if case .bool(let flag) = value { return flag }
            return nil
        }
    }

    public func optionalStringArray(_ key: String) throws -> [String]? {
        try typedArray(key, expected: "array of string", accepts: { $0 == .string }) { element in
            if case .string(let text) = element { return text }
            return nil
        }
    }

    /// An array of float32 or float64, or of integers, each rounded to the nearest Float.
    public func optionalFloatArray(_ key: String) throws -> [Float]? {
        try typedArray(key, expected: "array of numbers", accepts: { $0 == .float32 || $0 == .float64 || $0.isInteger }) {
            $0.floatValue
        }
    }

    /// An array of any integer type whose values all fit in an Int.
    public func optionalIntArray(_ key: String) throws -> [Int]? {
        try typedArray(key, expected: "array of integers", accepts: \.isInteger) { $0.intValue }
    }

    private func required<T>(_ key: String, _ value: T?) throws -> T {
        guard let value else { throw InputError(file: path, "missing metadata key \(key)") }
        return value
    }

    private func mismatch(_ key: String, expected: String, actual value: GGUFValue) -> InputError {
        InputError(file: path, "metadata key \(key) has type \(value.typeDescription), expected \(expected)")
    }

    private func typed<T>(_ key: String, expected: String, _ convert: (GGUFValue) -> T?) throws -> T? {
        guard let value = metadata[key] else { return nil }
        guard let converted = convert(value) else { throw mismatch(key, expected: expected, actual: value) }
        return converted
    }

    /// The elements of an array whose element type `accepts`; an element `convert` cannot represent
    /// (an integer outside Int's range) is an error of its own.
    private func typedArray<T>(_ key: String, expected: String, accepts: (GGUFValueType) -> Bool,
                               _ convert: (GGUFValue) -> T?) throws -> [T]? {
        guard let value = metadata[key] else { return nil }
        guard case .array(let elementType, let elements) = value, accepts(elementType) else {
            throw mismatch(key, expected: expected, actual: value)
        }
        var result: [T] = []
        result.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            guard let converted = convert(element) else {
                throw InputError(file: path, "metadata key \(key) element \(index) has value \(element) outside the range of \(T.self)")
            }
            result.append(converted)
        }
        return result
    }
}
