import Foundation

/// Copies a finished dump into a compressed one (chunked, shuffled, gzip): for sharing, when a
/// smaller file is worth the time. Compression needs chunked datasets whose index changes as they
/// are written, which is not crash-safe, so capture never compresses while streaming; this is a
/// separate step on a complete file. The copy has the same groups, datasets, values, attributes
/// and named dimensions, and its own checksum file (`DumpChecksum`).
public enum DumpPacker {
    /// Chunks stay under about 1 MiB: one prompt's row, split further along leading axes when
    /// a row is bigger (the full attention patterns of probes).
    static func chunk(for shape: [Int], elementSize: Int) -> [Int] {
        var chunk = shape.map { max($0, 1) }
        var axis = 0
        while axis < chunk.count - 1 && chunk.reduce(elementSize, *) > 1 << 20 {
            chunk[axis] = 1
            axis += 1
        }
        return chunk
    }

    /// Attributes the dimension-scale API owns; they are re-created, not copied.
    private static let scaleAttributes: Set<String> = ["CLASS", "NAME", "DIMENSION_LIST", "REFERENCE_LIST", "_Netcdf4Dimid"]

    public static func pack(_ source: String, into destination: String, level: Int) throws {
        guard (1...9).contains(level) else { throw InputError(file: nil, "gzip level \(level) is not in 1...9") }
        // A damaged copy is refused before HDF5 reads it (some damage crashes libhdf5).
        _ = try DumpChecksum.verify(source)
        let input = try HDF5File.open(source, mode: .readOnly)
        defer { try? input.close() }
        guard (try? input.attribute("format", as: String.self)) == DumpFormat.name else {
            throw InputError(file: source, "is not an \(DumpFormat.name) file")
        }
        let output = try HDF5File.create(destination, temporaryName: true)
        do {
            try copyAttributes(from: input, to: output)
            try copyGroup(input, "/", from: input, to: output, level: level)
            // The old copy's checksum must not sit beside the new copy, even for a moment.
            let checksum = DumpChecksum.path(for: destination)
            if FileManager.default.fileExists(atPath: checksum) {
                do {
                    try FileManager.default.removeItem(atPath: checksum)
                } catch {
                    throw InputError(file: checksum, "is stale and cannot be removed: \(error.localizedDescription)")
                }
            }
            try output.commitName()
            try output.close()
        } catch {
            try? output.close()
            try? FileManager.default.removeItem(atPath: output.path)
            throw error
        }
        try DumpChecksum.write(for: destination)
    }

    private static func copyAttributes(from source: some HDF5Object, to target: some HDF5Object) throws {
        for name in try source.attributeNames() where !scaleAttributes.contains(name) {
            try target.setAttribute(name, try source.attribute(name))
        }
    }

    /// Copies the members of group `path`: dimensions first (so datasets can attach them), then
    /// datasets, then subgroups.
    private static func copyGroup(_ group: some HDF5Container, _ path: String, from input: HDF5File,
                                  to output: HDF5File, level: Int) throws {
        let target: any HDF5Container = path == "/" ? output : try output.openGroup(path)
        let members = try group.members()
        var datasets: [HDF5Dataset] = []
        for member in members where member.kind == .dataset {
            let dataset = try group.openDataset(member.name)
            if dataset.isDimensionScale {
                _ = try target.createDimension(member.name, size: dataset.shape.first ?? 0)
            } else {
                datasets.append(dataset)
            }
        }
        for dataset in datasets {
            let name = String(dataset.path.split(separator: "/").last ?? "")
            try copyDataset(dataset, named: name, in: target, path: path, output: output, level: level)
        }
        for member in members where member.kind == .group {
            let child = try group.openGroup(member.name)
            let childPath = (path == "/" ? "" : path) + "/" + member.name
            let created = try output.createGroup(String(childPath.dropFirst()))
            try copyAttributes(from: child, to: created)
            try copyGroup(child, childPath, from: input, to: output, level: level)
        }
    }

    private static func copyDataset(_ dataset: HDF5Dataset, named name: String, in target: any HDF5Container,
                                    path: String, output: HDF5File, level: Int) throws {
        let type = dataset.elementType, shape = dataset.shape
        let copy: HDF5Dataset
        switch type {
        case .variableLengthString, .fixedLengthString:
            copy = try target.createDataset(name, of: type, shape: shape)
            try copy.writeStrings(try dataset.readStrings())
        default:
            let size = type == .float16 ? 2 : type == .int8 || type == .uint8 ? 1 : type == .float64 || type == .int64 ? 8 : 4
            let layout: HDF5Layout = shape.reduce(1, *) > 0
                ? .compressed(chunk: chunk(for: shape, elementSize: size), level: level, shuffle: true) : .contiguous
            copy = try target.createDataset(name, of: type, shape: shape, layout: layout)
            switch type {
            case .float16: try copy.write(try dataset.read(as: Float16.self))
            case .float64: try copy.write(try dataset.read(as: Double.self))
            case .int8: try copy.write(try dataset.read(as: Int8.self))
            case .uint8: try copy.write(try dataset.read(as: UInt8.self))
            case .int32: try copy.write(try dataset.read(as: Int32.self))
            case .int64: try copy.write(try dataset.read(as: Int64.self))
            default: try copy.write(try dataset.read(as: Float.self))
            }
        }
        try copyAttributes(from: dataset, to: copy)
        // Named dimensions: the scale of each axis, found by name in this group or an ancestor.
        for (axis, label) in try dataset.dimensionLabels().enumerated() {
            guard let label else { continue }
            try copy.attachDimensionScale(try scale(named: label, near: path, in: output), toAxis: axis)
        }
    }

    private static func scale(named name: String, near path: String, in file: HDF5File) throws -> HDF5Dataset {
        var components = path.split(separator: "/").map(String.init)
        while true {
            let candidate = (components + [name]).joined(separator: "/")
            if file.exists(candidate) { return try file.openDataset(candidate) }
            if components.isEmpty { throw InputError(file: file.path, "no dimension \(name) above \(path)") }
            components.removeLast()
        }
    }
}
