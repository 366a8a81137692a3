import CHDF5

/// 1-D UTF-8 string datasets, fixed- or variable-length.
///
/// Variable-length strings live in the file's global heap, so writing them allocates file
/// space: write them while creating the layout (before the first flush), never while
/// streaming. Fixed-length strings are raw data and safe to stream.
extension HDF5Dataset {
    /// Writes `values` at elements start..<start + values.count. Fixed-length datasets
    /// reject a value whose UTF-8 form is longer than the element.
    public func writeStrings(_ values: [String], start: Int = 0) throws {
        try HDF5Library.serialized {
            try file.ensureWritable("write \(path)")
            let slab = try stringSlab(start: start, count: values.count)
            guard !values.isEmpty else { return }
            try withStringTransfer(slab) { type, memorySpace, fileSpace in
                switch elementType {
                case .fixedLengthString(let bytes):
                    let buffer = try HDF5StringCodec.fixedLength(values, bytes: bytes) { value in
                        failure("string of \(value.utf8.count) bytes does not fit \(bytes)-byte elements of")
                    }
                    try write(buffer, type: type, memorySpace, fileSpace, slab)
                default:
                    try HDF5StringCodec.withVariableLength(values) { pointers in
                        try write(pointers, type: type, memorySpace, fileSpace, slab)
                    }
                }
            }
        }
    }

    /// Reads elements start..<start + count (to the end when `count` is nil).
    public func readStrings(start: Int = 0, count: Int? = nil) throws -> [String] {
        try HDF5Library.serialized {
            try file.ensureOpen()
            let slab = try stringSlab(start: start, count: count ?? (shape.first ?? 0) - start)
            guard slab.elementCount > 0 else { return [] }
            return try withStringTransfer(slab) { type, memorySpace, fileSpace in
                try HDF5StringCodec.read(type: type, space: memorySpace, count: slab.elementCount) { buffer in
                    H5Dread(id, type, memorySpace, fileSpace, icl_H5P_DEFAULT, buffer)
                } onFailure: {
                    HDF5Error.make(file: file.path, "cannot read \(slab) of dataset \(path)")
                }
            }
        }
    }

    private func stringSlab(start: Int, count: Int) throws -> HDF5Hyperslab {
        guard elementType.isString, shape.count == 1 else {
            throw failure("not a 1-D string dataset (\(elementType), shape \(shape)):")
        }
        let slab = HDF5Hyperslab(start: [start], count: [count])
        try slab.validate(against: shape, file: file.path, path: path)
        return slab
    }

    /// Runs `body` with the dataset's own string type (so its character set and padding
    /// need no conversion) and the memory and file dataspaces of `slab`.
    private func withStringTransfer<R>(_ slab: HDF5Hyperslab, _ body: (hid_t, hid_t, hid_t) throws -> R) throws -> R {
        let type = H5Dget_type(id)
        let (memorySpace, fileSpace) = spaces(slab)
        defer {
            H5Tclose(type)
            H5Sclose(memorySpace)
            H5Sclose(fileSpace)
        }
        return try body(type, memorySpace, fileSpace)
    }

    private func write<Element>(_ buffer: [Element], type: hid_t, _ memorySpace: hid_t, _ fileSpace: hid_t,
                                _ slab: HDF5Hyperslab) throws {
        let status = buffer.withUnsafeBytes { H5Dwrite(id, type, memorySpace, fileSpace, icl_H5P_DEFAULT, $0.baseAddress) }
        try HDF5Error.check(status, file: file.path, "cannot write \(slab) of dataset \(path)")
    }
}

/// Packs Swift strings into HDF5's in-memory string layouts and back; shared by string
/// datasets and string attributes.
enum HDF5StringCodec {
    /// NUL-padded UTF-8, `bytes` per string; `tooLong` makes the error for a value that
    /// does not fit.
    static func fixedLength(_ values: [String], bytes: Int, tooLong: (String) -> Error) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: values.count * bytes)
        for (index, value) in values.enumerated() {
            let utf8 = Array(value.utf8)
            guard utf8.count <= bytes else { throw tooLong(value) }
            buffer.replaceSubrange(index * bytes..<index * bytes + utf8.count, with: utf8)
        }
        return buffer
    }

    /// Calls `body` with one C-string pointer per value (HDF5's variable-length layout).
    static func withVariableLength<R>(_ values: [String], _ body: ([UnsafePointer<CChar>?]) throws -> R) rethrows -> R {
        var storage: [CChar] = []
        var offsets: [Int] = []
        for value in values {
            offsets.append(storage.count)
            storage.append(contentsOf: value.utf8CString)
        }
        return try storage.withUnsafeBufferPointer { characters in
            try body(offsets.map { characters.baseAddress! + $0 })
        }
    }

    /// Reads `count` strings of `type` with `read` (an H5Dread / H5Aread into the given
    /// buffer) and decodes them; variable-length buffers are handed back to HDF5.
    static func read(type: hid_t, space: hid_t, count: Int, _ read: (UnsafeMutableRawPointer) -> herr_t,
                     onFailure: () -> Error) throws -> [String] {
        if H5Tis_variable_str(type) > 0 {
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            return try pointers.withUnsafeMutableBytes { raw in
                guard read(raw.baseAddress!) >= 0 else { throw onFailure() }
                defer { H5Dvlen_reclaim(type, space, icl_H5P_DEFAULT, raw.baseAddress) }
                return raw.bindMemory(to: UnsafeMutablePointer<CChar>?.self).map { $0.map { String(cString: $0) } ?? "" }
            }
        }
        let size = H5Tget_size(type)
        var buffer = [UInt8](repeating: 0, count: count * size)
        guard buffer.withUnsafeMutableBytes({ read($0.baseAddress!) }) >= 0 else { throw onFailure() }
        return (0..<count).map { index in
            let element = buffer[index * size..<(index + 1) * size]
            return String(decoding: element.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
