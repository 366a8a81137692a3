import CHDF5

/// Where an object lives: its file, its absolute path in the file and its open HDF5 id.
/// Opaque to users of the layer; it lets one set of extension methods serve the file (as
/// its root group), groups and datasets.
public struct HDF5Location {
    /// Unowned: the file's own location would otherwise retain the file forever. Groups and
    /// datasets keep their file alive themselves.
    unowned let file: HDF5File
    let path: String
    let id: hid_t

    /// The absolute path of `name` relative to this object ("/a" + "b/c" = "/a/b/c").
    func child(_ name: String) -> String {
        if name.hasPrefix("/") { return name }
        let trimmed = name.hasSuffix("/") ? String(name.dropLast()) : name
        return path == "/" ? "/" + trimmed : path + "/" + trimmed
    }
}

/// An object that carries attributes: the file (root group), a group or a dataset.
public protocol HDF5Object: AnyObject {
    var location: HDF5Location { get }
}

/// An object that holds groups and datasets: the file (root group) or a group.
public protocol HDF5Container: HDF5Object {}

/// One entry of a group.
public struct HDF5Member: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case group, dataset
        /// Named datatypes, dangling links and the like.
        case other
    }

    public let name: String
    public let kind: Kind

    public init(name: String, kind: Kind) {
        self.name = name
        self.kind = kind
    }
}
