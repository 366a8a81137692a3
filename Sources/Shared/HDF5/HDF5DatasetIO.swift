import CHDF5

/// Numeric reads and writes, whole dataset or one hyperslab, from and to Swift arrays or
/// unsafe buffers (row-major, last axis fastest).
///
/// HDF5 converts between numeric types itself, except where IEEE half is involved: HDF5
/// 1.10's software float<->half conversion rounds ties away from zero, flushes or halves
/// subnormals wrongly (a 43% error at 3.5 * 2^-24) and runs at ~15 M values/s. So half
/// data moves through Swift's `Float16`, which rounds to nearest even, and HDF5 only ever
/// copies halves as they are. Half files pair with `Float16`, `Float` and `Double` memory.
extension HDF5Dataset {
    public func write<T: HDF5Element>(_ values: [T], at slab: HDF5Hyperslab? = nil) throws {
        try values.withUnsafeBufferPointer { try write($0, at: slab) }
    }

    public func write<T: HDF5Element>(_ buffer: UnsafeBufferPointer<T>, at slab: HDF5Hyperslab? = nil) throws {
        try HDF5Library.serialized {
            try file.ensureWritable("write \(path)")
            let slab = try checkedSlab(slab, elements: buffer.count, verb: "write")
            guard slab.elementCount > 0, let base = buffer.baseAddress else { return }
            switch try plan(memory: T.hdf5ElementType, verb: "write") {
            case .direct(let memoryType):
                try transfer(slab, memoryType: memoryType, writing: UnsafeRawPointer(base))
            case .halfFromFloat:
                let halves = Float16Conversion.halves(fromFloats: UnsafeRawPointer(base), count: buffer.count)
                try halves.withUnsafeBytes { try transfer(slab, memoryType: HDF5TypeIDs.float16, writing: $0.baseAddress!) }
            case .halfFromDouble:
                let halves = Float16Conversion.halves(fromDoubles: UnsafeRawPointer(base), count: buffer.count)
                try halves.withUnsafeBytes { try transfer(slab, memoryType: HDF5TypeIDs.float16, writing: $0.baseAddress!) }
            case .floatFromHalf, .doubleFromHalf:
                let floats = Float16Conversion.floats(fromHalves: UnsafeRawPointer(base), count: buffer.count)
                try floats.withUnsafeBytes { try transfer(slab, memoryType: icl_H5T_NATIVE_FLOAT(), writing: $0.baseAddress!) }
            }
        }
    }

    /// Reads the whole dataset, or `slab`, converting to `T`.
    public func read<T: HDF5Element>(as type: T.Type = T.self, at slab: HDF5Hyperslab? = nil) throws -> [T] {
        let count = (slab ?? .all(shape)).elementCount
        return try [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            try read(into: buffer, at: slab)
            initialized = count
        }
    }

    /// Reads the whole dataset, or `slab`, into `buffer`, whose count must match.
    public func read<T: HDF5Element>(into buffer: UnsafeMutableBufferPointer<T>, at slab: HDF5Hyperslab? = nil) throws {
        try HDF5Library.serialized {
            try file.ensureOpen()
            let slab = try checkedSlab(slab, elements: buffer.count, verb: "read")
            guard slab.elementCount > 0, let base = buffer.baseAddress else { return }
            switch try plan(memory: T.hdf5ElementType, verb: "read") {
            case .direct(let memoryType):
                try transfer(slab, memoryType: memoryType, reading: UnsafeMutableRawPointer(base))
            case .halfFromFloat:
                var halves = [Float16](repeating: 0, count: buffer.count)
                try halves.withUnsafeMutableBytes { try transfer(slab, memoryType: HDF5TypeIDs.float16, reading: $0.baseAddress!) }
                Float16Conversion.floats(fromHalves: halves, into: UnsafeMutableRawPointer(base))
            case .halfFromDouble:
                var halves = [Float16](repeating: 0, count: buffer.count)
                try halves.withUnsafeMutableBytes { try transfer(slab, memoryType: HDF5TypeIDs.float16, reading: $0.baseAddress!) }
                Float16Conversion.doubles(fromHalves: halves, into: UnsafeMutableRawPointer(base))
            case .floatFromHalf:
                var floats = [Float](repeating: 0, count: buffer.count)
                try floats.withUnsafeMutableBytes { try transfer(slab, memoryType: icl_H5T_NATIVE_FLOAT(), reading: $0.baseAddress!) }
                Float16Conversion.halves(fromFloats: floats, into: UnsafeMutableRawPointer(base))
            case .doubleFromHalf:
                var doubles = [Double](repeating: 0, count: buffer.count)
                try doubles.withUnsafeMutableBytes { try transfer(slab, memoryType: icl_H5T_NATIVE_DOUBLE(), reading: $0.baseAddress!) }
                Float16Conversion.halves(fromDoubles: doubles, into: UnsafeMutableRawPointer(base))
            }
        }
    }

    /// How values move between memory and file. Cases named for file-side <- memory-side
    /// when writing; reading runs the same pairing the other way.
    private enum TransferPlan {
        /// HDF5 copies or converts by itself (no half on exactly one side).
        case direct(hid_t)
        /// The file holds halves, memory holds Float / Double.
        case halfFromFloat, halfFromDouble
        /// Memory holds Float16, the file holds something else: stage through Float (or
        /// Double for float64 files, so each value is rounded only once).
        case floatFromHalf, doubleFromHalf
    }

    private func plan(memory: HDF5ElementType, verb: String) throws -> TransferPlan {
        guard !elementType.isString, HDF5TypeIDs.memoryType(elementType) != nil else {
            throw failure("cannot \(verb) numbers: element type is \(elementType) in")
        }
        guard let memoryType = HDF5TypeIDs.memoryType(memory) else {
            throw failure("cannot \(verb) \(memory) values in")
        }
        switch (elementType, memory) {
        case (.float16, .float16): return .direct(memoryType)
        case (.float16, .float32): return .halfFromFloat
        case (.float16, .float64): return .halfFromDouble
        case (.float16, _): throw failure("cannot convert between float16 and \(memory) in")
        case (.float64, .float16): return .doubleFromHalf
        case (_, .float16): return .floatFromHalf
        default: return .direct(memoryType)
        }
    }

    private func checkedSlab(_ slab: HDF5Hyperslab?, elements: Int, verb: String) throws -> HDF5Hyperslab {
        let slab = slab ?? .all(shape)
        try slab.validate(against: shape, file: file.path, path: path)
        guard slab.elementCount == elements else {
            throw failure("cannot \(verb) \(elements) values into selection \(slab) (\(slab.elementCount) elements) of")
        }
        return slab
    }

    private func transfer(_ slab: HDF5Hyperslab, memoryType: hid_t, writing data: UnsafeRawPointer) throws {
        let (memorySpace, fileSpace) = spaces(slab)
        defer {
            H5Sclose(memorySpace)
            H5Sclose(fileSpace)
        }
        try HDF5Error.check(H5Dwrite(id, memoryType, memorySpace, fileSpace, icl_H5P_DEFAULT, data),
                            file: file.path, "cannot write \(slab) of dataset \(path)")
    }

    private func transfer(_ slab: HDF5Hyperslab, memoryType: hid_t, reading data: UnsafeMutableRawPointer) throws {
        let (memorySpace, fileSpace) = spaces(slab)
        defer {
            H5Sclose(memorySpace)
            H5Sclose(fileSpace)
        }
        try HDF5Error.check(H5Dread(id, memoryType, memorySpace, fileSpace, icl_H5P_DEFAULT, data),
                            file: file.path, "cannot read \(slab) of dataset \(path)")
    }

    /// (memory, file) dataspaces for `slab`; memory is the slab as a dense block.
    func spaces(_ slab: HDF5Hyperslab) -> (hid_t, hid_t) {
        (HDF5Dataspace.make(shape.isEmpty ? [] : slab.count), HDF5Dataspace.selecting(slab, in: shape))
    }
}
