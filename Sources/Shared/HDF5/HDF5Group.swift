import CHDF5

/// An open group. Keeps its file alive; closed when released or when the file is closed.
public final class HDF5Group: HDF5Container {
    public let file: HDF5File
    /// Absolute path in the file, e.g. "/sets/antonym".
    public let path: String
    let id: hid_t

    public var location: HDF5Location { HDF5Location(file: file, path: path, id: id) }

    init(file: HDF5File, path: String, id: hid_t) {
        self.file = file
        self.path = path
        self.id = id
    }

    deinit {
        HDF5Library.serialized {
            if file.isOpen { H5Gclose(id) }
        }
    }
}

extension HDF5Container {
    /// Creates group `name` (relative to this one, or absolute), creating missing
    /// intermediate groups too. Fails if it exists.
    public func createGroup(_ name: String) throws -> HDF5Group {
        let location = self.location, path = location.child(name), file = location.file
        return try HDF5Library.serialized {
            try file.ensureWritable("create group \(path)")
            let links = HDF5Properties.linkCreation()
            defer { H5Pclose(links) }
            let options = HDF5Properties.objectCreation(icl_H5P_GROUP_CREATE())
            defer { H5Pclose(options) }
            let id = try HDF5Error.check(H5Gcreate2(location.id, name, links, options, icl_H5P_DEFAULT),
                                         file: file.path, "cannot create group \(path)")
            return HDF5Group(file: file, path: path, id: id)
        }
    }

    public func openGroup(_ name: String) throws -> HDF5Group {
        let location = self.location, path = location.child(name), file = location.file
        return try HDF5Library.serialized {
            try file.ensureOpen()
            let id = try HDF5Error.check(H5Gopen2(location.id, name, icl_H5P_DEFAULT),
                                         file: file.path, "cannot open group \(path)")
            return HDF5Group(file: file, path: path, id: id)
        }
    }

    /// Whether `name` (a relative or absolute path, possibly through several groups) names
    /// an existing object.
    public func exists(_ name: String) -> Bool {
        let location = self.location
        return HDF5Library.serialized {
            location.file.isOpen && H5LTpath_valid(location.id, name, true) > 0
        }
    }

    /// The groups and datasets directly inside this container, sorted by name; `kind`
    /// keeps only one kind.
    public func members(_ kind: HDF5Member.Kind? = nil) throws -> [HDF5Member] {
        let location = self.location, file = location.file
        let all: [HDF5Member] = try HDF5Library.serialized {
            try file.ensureOpen()
            var names: [String] = []
            let status = withUnsafeMutablePointer(to: &names) { pointer in
                H5Literate(location.id, H5_INDEX_NAME, H5_ITER_INC, nil, { _, name, _, context in
                    guard let name, let context else { return -1 }
                    context.assumingMemoryBound(to: [String].self).pointee.append(String(cString: name))
                    return 0
                }, pointer)
            }
            try HDF5Error.check(status, file: file.path, "cannot list group \(location.path)")
            return names.map { HDF5Member(name: $0, kind: memberKind(location.id, $0)) }
        }
        guard let kind else { return all }
        return all.filter { $0.kind == kind }
    }

    private func memberKind(_ group: hid_t, _ name: String) -> HDF5Member.Kind {
        var info = H5O_info_t()
        guard H5Oget_info_by_name2(group, name, &info, UInt32(H5O_INFO_BASIC), icl_H5P_DEFAULT) >= 0 else { return .other }
        switch info.type {
        case H5O_TYPE_GROUP: return .group
        case H5O_TYPE_DATASET: return .dataset
        default: return .other
        }
    }
}

/// Property lists shared by object creation (the caller closes them).
enum HDF5Properties {
    /// Creates missing intermediate groups along a path.
    static func linkCreation() -> hid_t {
        let id = H5Pcreate(icl_H5P_LINK_CREATE())
        H5Pset_create_intermediate_group(id, 1)
        return id
    }

    /// Group or dataset creation properties without timestamps, so identical content gives
    /// identical files.
    static func objectCreation(_ propertyClass: hid_t) -> hid_t {
        let id = H5Pcreate(propertyClass)
        H5Pset_obj_track_times(id, false)
        return id
    }
}
