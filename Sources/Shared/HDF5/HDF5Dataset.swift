import CHDF5

/// How a dataset's elements are stored.
public enum HDF5Layout: Sendable, Hashable {
    /// One contiguous block allocated at creation and never filled: the layout for streamed
    /// writes, because afterwards only raw data changes (see `HDF5File`).
    case contiguous
    /// Chunked and gzip-compressed, for a separate packing step that writes a finished
    /// dataset in one go. Not crash-safe while being written. `shuffle` groups the bytes of
    /// each element first, which compresses floats much better.
    case compressed(chunk: [Int], level: Int = 4, shuffle: Bool = true)
}

/// An open dataset of fixed shape. Keeps its file alive; closed when released or when the
/// file is closed.
public final class HDF5Dataset: HDF5Object {
    public let file: HDF5File
    /// Absolute path in the file, e.g. "/sets/antonym/z".
    public let path: String
    /// Extent along each axis; [] for a scalar. Datasets in this layer never change shape.
    public let shape: [Int]
    public let elementType: HDF5ElementType
    let id: hid_t

    public var location: HDF5Location { HDF5Location(file: file, path: path, id: id) }
    public var elementCount: Int { shape.reduce(1, *) }

    init(file: HDF5File, path: String, id: hid_t) {
        self.file = file
        self.path = path
        self.id = id
        let space = H5Dget_space(id), type = H5Dget_type(id)
        defer {
            H5Sclose(space)
            H5Tclose(type)
        }
        shape = HDF5Dataspace.shape(of: space)
        elementType = HDF5TypeIDs.elementType(of: type)
    }

    deinit {
        HDF5Library.serialized {
            if file.isOpen { H5Dclose(id) }
        }
    }

    /// Throws an error that names this dataset.
    func failure(_ problem: String) -> InputError {
        InputError(file: file.path, "\(problem) \(path)")
    }
}

extension HDF5Container {
    public func openDataset(_ name: String) throws -> HDF5Dataset {
        let location = self.location, path = location.child(name), file = location.file
        return try HDF5Library.serialized {
            try file.ensureOpen()
            let id = try HDF5Error.check(H5Dopen2(location.id, name, icl_H5P_DEFAULT),
                                         file: file.path, "cannot open dataset \(path)")
            return HDF5Dataset(file: file, path: path, id: id)
        }
    }

    /// Creates dataset `name` (intermediate groups included) of `shape`, e.g.
    /// createDataset("sets/antonym/z", of: .float16, shape: [prompts, tokens, layers, heads, dim]).
    /// Contiguous datasets get all their space now, so later writes change raw data only.
    /// String types must be 1-D.
    public func createDataset(_ name: String, of type: HDF5ElementType, shape: [Int],
                              layout: HDF5Layout = .contiguous) throws -> HDF5Dataset {
        try makeDataset(name, of: type, shape: shape, layout: layout, allocate: true)
    }

    /// `allocate: false` makes a contiguous dataset that owns no space until written: for
    /// datasets that are never written (netCDF dimensions without values) and read as zeros.
    func makeDataset(_ name: String, of type: HDF5ElementType, shape: [Int], layout: HDF5Layout,
                     allocate: Bool) throws -> HDF5Dataset {
        let location = self.location, path = location.child(name), file = location.file
        return try HDF5Library.serialized {
            try file.ensureWritable("create dataset \(path)")
            let fileType = try makeFileType(type, path: path, file: file)
            defer { H5Tclose(fileType) }
            guard !type.isString || shape.count == 1 else {
                throw InputError(file: file.path, "cannot create dataset \(path): string datasets must be 1-D, not \(shape)")
            }
            let space = HDF5Dataspace.make(shape)
            defer { H5Sclose(space) }
            let creation = try creationProperties(layout, allocate: allocate, variableLength: type == .variableLengthString,
                                                  shape: shape, path: path, file: file)
            defer { H5Pclose(creation) }
            let links = HDF5Properties.linkCreation()
            defer { H5Pclose(links) }
            let id = try HDF5Error.check(H5Dcreate2(location.id, name, fileType, space, links, creation, icl_H5P_DEFAULT),
                                         file: file.path, "cannot create dataset \(path)")
            return HDF5Dataset(file: file, path: path, id: id)
        }
    }

    /// A new type id for `type` as stored in the file (the caller closes it).
    private func makeFileType(_ type: HDF5ElementType, path: String, file: HDF5File) throws -> hid_t {
        switch type {
        case .fixedLengthString(let bytes): return HDF5TypeIDs.makeStringType(bytes: bytes)
        case .variableLengthString: return HDF5TypeIDs.makeStringType(bytes: nil)
        case .unsupported(let what):
            throw InputError(file: file.path, "cannot create dataset \(path) of unsupported type \(what)")
        default:
            return H5Tcopy(HDF5TypeIDs.fileType(type)!)
        }
    }

    private func creationProperties(_ layout: HDF5Layout, allocate: Bool, variableLength: Bool, shape: [Int],
                                    path: String, file: HDF5File) throws -> hid_t {
        let creation = HDF5Properties.objectCreation(icl_H5P_DATASET_CREATE())
        switch layout {
        case .contiguous:
            H5Pset_layout(creation, H5D_CONTIGUOUS)
            if allocate {
                H5Pset_alloc_time(creation, H5D_ALLOC_TIME_EARLY)
                // Variable-length elements need their empty fill (HDF5 refuses "never").
                if !variableLength { H5Pset_fill_time(creation, H5D_FILL_TIME_NEVER) }
            } else {
                H5Pset_alloc_time(creation, H5D_ALLOC_TIME_LATE)
            }
        case .compressed(let chunk, let level, let shuffle):
            guard chunk.count == shape.count, zip(chunk, shape).allSatisfy({ $0 > 0 && $0 <= max($1, 1) }) else {
                H5Pclose(creation)
                throw InputError(file: file.path, "cannot create dataset \(path): chunk \(chunk) does not fit shape \(shape)")
            }
            H5Pset_chunk(creation, Int32(chunk.count), chunk.map { hsize_t($0) })
            if shuffle { H5Pset_shuffle(creation) }
            H5Pset_deflate(creation, UInt32(min(max(level, 0), 9)))
        }
        return creation
    }
}
