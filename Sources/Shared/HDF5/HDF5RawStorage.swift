import CHDF5

/// Where a dataset's values lie in the file, for readers that bypass HDF5: a contiguous,
/// fully allocated, little-endian dataset is one block of raw bytes at a fixed offset, so its
/// rows can be read with plain positioned reads, from several threads at once, without the
/// library's global lock (the fast path of the analyzer on large dumps; METHODS of the dump:
/// every activation dataset is created contiguous and allocated up front).
public struct HDF5RawStorage: Sendable, Equatable {
    /// Byte offset of element 0 in the file.
    public let offset: Int
    /// Bytes per element.
    public let elementSize: Int
}

extension HDF5Dataset {
    /// The raw block of this dataset, or nil when it is chunked (a packed dump), not allocated
    /// in full, or not little-endian.
    public var rawStorage: HDF5RawStorage? {
        HDF5Library.serialized { () -> HDF5RawStorage? in
            guard file.isOpen else { return nil }
            let creation = H5Dget_create_plist(id)
            guard creation >= 0 else { return nil }
            defer { H5Pclose(creation) }
            guard H5Pget_layout(creation) == H5D_CONTIGUOUS else { return nil }
            let type = H5Dget_type(id)
            guard type >= 0 else { return nil }
            defer { H5Tclose(type) }
            let size = H5Tget_size(type)
            guard H5Tget_class(type) != H5T_STRING, H5Tget_order(type) == H5T_ORDER_LE, size > 0 else { return nil }
            let offset = H5Dget_offset(id)
            guard offset != haddr_t.max, offset <= haddr_t(Int.max),
                  H5Dget_storage_size(id) == hsize_t(elementCount * size) else { return nil }
            return HDF5RawStorage(offset: Int(offset), elementSize: size)
        }
    }
}
