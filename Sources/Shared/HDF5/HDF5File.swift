import CHDF5
import Foundation

/// An open HDF5 file; also its root group ("/").
///
/// Crash-safe writing (the only scheme that survived kill -9 at random moments in our
/// measurements; SWMR / latest-format files and datasets grown by resize did not):
/// 1. `create` the file (optionally under a temporary name), then create the whole layout:
///    groups, every dataset at full size (`createDataset` allocates it up front and never
///    grows it), attributes and dimension scales;
/// 2. `flush()` once (and `commitName()` if a temporary name was used);
/// 3. from then on write raw data only (hyperslabs), plus a per-row "done" flag after each
///    row. Each write reaches the operating system before it returns, in order, so a writer
///    killed at any moment leaves a file that opens, and every row flagged done reads back
///    intact; reopen with `.readWrite` to resume.
/// Do not create objects or attributes after step 2: metadata changes are what a kill breaks.
public final class HDF5File: HDF5Container {
    public enum Mode: Sendable {
        case readOnly, readWrite
    }

    /// The path of the file on disk now (ends in ".partial" until `commitName()`).
    public private(set) var path: String
    public let mode: Mode
    public private(set) var isOpen = true
    /// Where `commitName()` moves a file created under a temporary name.
    private var finalPath: String?
    let id: hid_t

    /// The root group.
    public var location: HDF5Location { HDF5Location(file: self, path: "/", id: id) }

    private init(id: hid_t, path: String, mode: Mode, finalPath: String?) {
        self.id = id
        self.path = path
        self.mode = mode
        self.finalPath = finalPath
    }

    deinit {
        HDF5Library.serialized {
            if isOpen { H5Fclose(id) }
        }
    }

    /// Opens an existing file.
    public static func open(_ path: String, mode: Mode = .readOnly) throws -> HDF5File {
        try HDF5Library.serialized {
            let access = try fileAccessProperties(path, writable: mode == .readWrite)
            defer { H5Pclose(access) }
            let flags = mode == .readOnly ? icl_H5F_ACC_RDONLY() : icl_H5F_ACC_RDWR()
            let id = try HDF5Error.check(H5Fopen(path, flags, access), file: path, "cannot open as HDF5")
            return HDF5File(id: id, path: path, mode: mode, finalPath: nil)
        }
    }

    /// Creates (or truncates) a file for writing. With `temporaryName`, the file is written
    /// as "<path>.partial" so that a half-created layout never sits under the real name;
    /// call `commitName()` once the layout is complete.
    public static func create(_ path: String, temporaryName: Bool = false) throws -> HDF5File {
        try HDF5Library.serialized {
            let diskPath = temporaryName ? path + ".partial" : path
            let access = try fileAccessProperties(diskPath, writable: true)
            defer { H5Pclose(access) }
            let id = try HDF5Error.check(H5Fcreate(diskPath, icl_H5F_ACC_TRUNC(), icl_H5P_DEFAULT, access),
                                         file: diskPath, "cannot create HDF5 file")
            return HDF5File(id: id, path: diskPath, mode: .readWrite, finalPath: temporaryName ? path : nil)
        }
    }

    /// Default (1.8-compatible) format, whose superblock has no status flags that a killed
    /// writer would leave set, and strong close so `close()` really releases the file.
    ///
    /// Writable files also get no sieve buffer. HDF5 keeps one per dataset and holds small
    /// writes in it until the window moves, the dataset closes or the file is flushed: a
    /// killed writer lost every done flag it ever wrote, and a flag could reach the disk
    /// before the row it vouches for. Without it each write reaches the operating system
    /// before the call returns, in call order, which is what makes done flags trustworthy.
    private static func fileAccessProperties(_ path: String, writable: Bool) throws -> hid_t {
        let access = try HDF5Error.check(H5Pcreate(icl_H5P_FILE_ACCESS()), file: path, "cannot make file access properties")
        H5Pset_fclose_degree(access, H5F_CLOSE_STRONG)
        if writable { H5Pset_sieve_buf_size(access, 0) }
        return access
    }

    /// Writes every cached metadata and raw-data block to the operating system.
    public func flush() throws {
        try HDF5Library.serialized {
            try ensureOpen()
            try HDF5Error.check(H5Fflush(id, H5F_SCOPE_GLOBAL), file: path, "cannot flush")
        }
    }

    /// Flushes, then renames a file created with `temporaryName` to its real name. The file
    /// stays open; later errors name the new path.
    public func commitName() throws {
        guard let finalPath else { throw InputError(file: path, "commitName: file was not created under a temporary name") }
        try flush()
        guard rename(path, finalPath) == 0 else {
            throw InputError(file: path, "cannot rename to \(finalPath): \(String(cString: strerror(errno)))")
        }
        path = finalPath
        self.finalPath = nil
    }

    /// Closes the file and every group and dataset still open in it; those handles then
    /// throw on use. Closing twice is harmless.
    public func close() throws {
        try HDF5Library.serialized {
            guard isOpen else { return }
            isOpen = false
            try HDF5Error.check(H5Fclose(id), file: path, "cannot close")
        }
    }

    func ensureOpen() throws {
        guard isOpen else { throw InputError(file: path, "file is closed") }
    }

    /// Throws unless the file may be written.
    func ensureWritable(_ what: @autoclosure () -> String) throws {
        try ensureOpen()
        guard mode == .readWrite else { throw InputError(file: path, "cannot \(what()): file is open read-only") }
    }
}
