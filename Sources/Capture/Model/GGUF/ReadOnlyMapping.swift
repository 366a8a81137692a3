#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Shared

/// Maps a whole file read-only (mmap, MAP_PRIVATE) so tensor bytes are paged in on demand rather
/// than copied; an empty file maps to an empty buffer. The caller unmaps with `unmap`.
enum ReadOnlyMapping {
    static func map(path: String) throws -> UnsafeRawBufferPointer {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure(path, "cannot open") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw failure(path, "cannot stat") }
        guard (status.st_mode & S_IFMT) == S_IFREG else { throw InputError(file: path, "not a regular file") }
        guard status.st_size > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        guard let size = Int(exactly: status.st_size) else { throw InputError(file: path, "file too large to map") }
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0)
        guard let address, address != MAP_FAILED else { throw failure(path, "cannot map") }
        return UnsafeRawBufferPointer(start: address, count: size)
    }

    static func unmap(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
    }

    private static func failure(_ path: String, _ action: String) -> InputError {
        InputError(file: path, "\(action) the file: \(String(cString: strerror(errno)))")
    }
}
