import CHDF5

/// A rectangular block of a dataset: `count[d]` elements from `start[d]` along each axis.
/// Elements are laid out in memory row-major, last axis fastest, like the dataset itself.
public struct HDF5Hyperslab: Sendable, Hashable, CustomStringConvertible {
    public var start: [Int]
    public var count: [Int]

    public init(start: [Int], count: [Int]) {
        self.start = start
        self.count = count
    }

    /// Rows `range` along axis 0 with every element of the other axes: the shape of one
    /// streamed write, e.g. rows(i..<i+1, of: [prompts, tokens, layers, heads, dim]).
    public static func rows(_ range: Range<Int>, of shape: [Int]) -> HDF5Hyperslab {
        precondition(!shape.isEmpty, "rows(_:of:) needs at least one axis")
        return HDF5Hyperslab(start: [range.lowerBound] + Array(repeating: 0, count: shape.count - 1),
                             count: [range.count] + shape.dropFirst())
    }

    /// Every element of a dataset of `shape`.
    public static func all(_ shape: [Int]) -> HDF5Hyperslab {
        HDF5Hyperslab(start: Array(repeating: 0, count: shape.count), count: shape)
    }

    public var elementCount: Int { count.reduce(1, *) }

    public var description: String {
        "[" + zip(start, count).map { "\($0)..<\($0 + $1)" }.joined(separator: ", ") + "]"
    }

    /// Throws unless the slab has the dataset's rank and lies inside it.
    func validate(against shape: [Int], file: String, path: String) throws {
        guard start.count == shape.count, count.count == shape.count else {
            throw InputError(file: file, "selection \(self) has rank \(start.count), dataset \(path) has shape \(shape)")
        }
        for axis in shape.indices where start[axis] < 0 || count[axis] < 0 || start[axis] + count[axis] > shape[axis] {
            throw InputError(file: file, "selection \(self) lies outside dataset \(path) of shape \(shape)")
        }
    }
}

/// Dataspace ids (the caller closes them with H5Sclose).
enum HDF5Dataspace {
    /// A simple dataspace of fixed `shape`; rank 0 is a scalar.
    static func make(_ shape: [Int]) -> hid_t {
        guard !shape.isEmpty else { return H5Screate(H5S_SCALAR) }
        let dims = shape.map { hsize_t($0) }
        return H5Screate_simple(Int32(dims.count), dims, nil)
    }

    static func shape(of space: hid_t) -> [Int] {
        let rank = Int(H5Sget_simple_extent_ndims(space))
        guard rank > 0 else { return [] }
        var dims = [hsize_t](repeating: 0, count: rank)
        H5Sget_simple_extent_dims(space, &dims, nil)
        return dims.map { Int($0) }
    }

    /// The file dataspace of a dataset of `shape` with `slab` selected (caller closes).
    static func selecting(_ slab: HDF5Hyperslab, in shape: [Int]) -> hid_t {
        let space = make(shape)
        guard !shape.isEmpty else { return space }
        let start = slab.start.map { hsize_t($0) }, count = slab.count.map { hsize_t($0) }
        H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nil, count, nil)
        return space
    }
}
