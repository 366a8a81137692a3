import CHDF5

/// Named dimensions, through HDF5 dimension scales (H5DS), in the form netCDF-4 readers
/// expect, so `xarray.open_dataset(path, engine: "h5netcdf", group: G)` shows labelled dims.
///
/// What h5netcdf (1.8) reads: every dataset of a group carrying CLASS = "DIMENSION_SCALE" is
/// a dimension named after the dataset itself (not after its H5DS name); a variable's dims
/// are the datasets its DIMENSION_LIST references, found by name in its group or an
/// ancestor group, so put scales there. A variable must have a scale on every axis or on
/// none. A scale whose NAME attribute starts with "This is a netCDF dimension but not a
/// netCDF variable." is a dimension without coordinate values and is hidden as a variable.
/// `_Netcdf4Dimid` is optional when reading (h5netcdf numbers dimensions itself).
/// All of this is metadata: do it while creating the layout, before the first flush.
extension HDF5Container {
    /// A dimension without coordinate values: a 1-D float32 scale dataset of `size`
    /// elements that owns no file space (it is never written; h5py reads zeros).
    public func createDimension(_ name: String, size: Int) throws -> HDF5Dataset {
        let scale = try makeDataset(name, of: .float32, shape: [size], layout: .contiguous, allocate: false)
        // netCDF-C's exact form: the marker followed by the length in 10 columns.
        let marker = "This is a netCDF dimension but not a netCDF variable."
        let width = String(size).count
        try scale.setScaleName(marker + String(repeating: " ", count: max(0, 10 - width)) + String(size))
        return scale
    }
}

extension HDF5Dataset {
    /// Makes this 1-D dataset a coordinate variable: a dimension named after the dataset
    /// whose values label that axis (e.g. `layer` = [0, 1, ...]).
    public func makeDimensionScale() throws {
        try setScaleName(String(path.split(separator: "/").last ?? ""))
    }

    /// Whether this dataset is a dimension scale.
    public var isDimensionScale: Bool {
        HDF5Library.serialized { file.isOpen && H5DSis_scale(id) > 0 }
    }

    /// Attaches `scales[axis]` to each axis and labels the axis with the scale's name, e.g.
    /// z.attachDimensionScales([prompt, token, layer, head, dim]).
    public func attachDimensionScales(_ scales: [HDF5Dataset]) throws {
        guard scales.count == shape.count else {
            throw failure("\(scales.count) dimension scales given for the \(shape.count) axes of")
        }
        for (axis, scale) in scales.enumerated() { try attachDimensionScale(scale, toAxis: axis) }
    }

    /// Attaches one scale to `axis` and sets the axis label to the scale's name.
    public func attachDimensionScale(_ scale: HDF5Dataset, toAxis axis: Int) throws {
        try HDF5Library.serialized {
            try file.ensureWritable("attach dimension scales to \(path)")
            guard shape.indices.contains(axis), scale.shape == [shape[axis]] else {
                throw failure("cannot attach scale \(scale.path) of shape \(scale.shape) to axis \(axis) of \(shape) in")
            }
            let problem = "cannot attach dimension scale \(scale.path) to axis \(axis) of \(path)"
            try HDF5Error.check(H5DSattach_scale(id, scale.id, UInt32(axis)), file: file.path, problem)
            let label = String(scale.path.split(separator: "/").last ?? "")
            try HDF5Error.check(H5DSset_label(id, UInt32(axis), label), file: file.path, problem)
        }
    }

    /// The label of each axis (nil where none is set).
    public func dimensionLabels() throws -> [String?] {
        try HDF5Library.serialized {
            try file.ensureOpen()
            return try shape.indices.map { axis in
                let length = H5DSget_label(id, UInt32(axis), nil, 0)
                try HDF5Error.check(Int32(clamping: length), file: file.path, "cannot read the label of axis \(axis) of \(path)")
                guard length > 0 else { return nil }
                var buffer = [UInt8](repeating: 0, count: length + 1)
                _ = buffer.withUnsafeMutableBufferPointer { raw in
                    raw.withMemoryRebound(to: CChar.self) { H5DSget_label(id, UInt32(axis), $0.baseAddress, $0.count) }
                }
                return String(decoding: buffer.prefix(length), as: UTF8.self)
            }
        }
    }

    func setScaleName(_ name: String) throws {
        try HDF5Library.serialized {
            try file.ensureWritable("make \(path) a dimension scale")
            guard shape.count == 1 else { throw failure("a dimension scale must be 1-D, not \(shape):") }
            try HDF5Error.check(H5DSset_scale(id, name), file: file.path, "cannot make \(path) a dimension scale")
        }
    }
}
