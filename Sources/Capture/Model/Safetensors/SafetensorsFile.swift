import Foundation
import Shared
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One safetensors file, memory-mapped read-only for as long as this object lives. Opening it
/// validates the whole header (see `SafetensorsHeader`); reading a tensor copies and widens its
/// elements into a fresh array, so nothing returned refers to the mapping.
public final class SafetensorsFile: @unchecked Sendable {
    public let path: String
    public let tensors: [String: SafetensorsTensorInfo]
    /// The header's `__metadata__` map (e.g. `format: pt`), empty when absent.
    public let metadata: [String: String]
    /// Immutable after init and read-only, so concurrent reads are safe.
    private let mapping: UnsafeRawBufferPointer

    public init(path: String) throws {
        self.path = path
        let mapping = try Self.map(path: path)
        let header: SafetensorsHeader
        do {
            header = try SafetensorsHeader(file: mapping, path: path)
        } catch {
            Self.unmap(mapping)
            throw error
        }
        self.mapping = mapping
        self.tensors = header.tensors
        self.metadata = header.metadata
    }

    deinit {
        Self.unmap(mapping)
    }

    /// Tensor names in sorted order.
    public var tensorNames: [String] { tensors.keys.sorted() }

    /// The elements of an F32, F16 or BF16 tensor as Float, exactly, in row-major order.
    public func floats(_ name: String) throws -> [Float] {
        let info = try tensor(name)
        guard info.dtype.isFloatingPoint else {
            throw InputError(file: path, "tensor \"\(name)\" has dtype \(info.dtype.rawValue), not a floating-point type")
        }
        return ElementConversion.floats(from: start(of: info), count: info.elementCount, dtype: info.dtype)
    }

    /// The elements of an I32 or I64 tensor as Int32; I64 values outside Int32's range are an error.
    public func int32s(_ name: String) throws -> [Int32] {
        let info = try tensor(name)
        guard !info.dtype.isFloatingPoint else {
            throw InputError(file: path, "tensor \"\(name)\" has dtype \(info.dtype.rawValue), not an integer type")
        }
        switch ElementConversion.int32s(from: start(of: info), count: info.elementCount, dtype: info.dtype) {
        case .success(let values):
            return values
        case .failure(let outOfRange):
            throw InputError(file: path, "tensor \"\(name)\" element \(outOfRange.index) is \(outOfRange.value), outside the Int32 range")
        }
    }

    private func tensor(_ name: String) throws -> SafetensorsTensorInfo {
        guard let info = tensors[name] else { throw InputError(file: path, "no tensor named \"\(name)\"") }
        return info
    }

    /// The first byte of a tensor (the header validated `byteRange` against the mapping's size),
    /// after telling the kernel that all of its pages are about to be read, so that a file not
    /// yet in the page cache is read ahead in large requests rather than fault by fault.
    private func start(of info: SafetensorsTensorInfo) -> UnsafeRawPointer {
        let pageStart = info.byteRange.lowerBound / Self.pageSize * Self.pageSize
        let base = UnsafeMutableRawPointer(mutating: mapping.baseAddress!)
        _ = madvise(base + pageStart, info.byteRange.upperBound - pageStart, MADV_WILLNEED)
        return mapping.baseAddress! + info.byteRange.lowerBound
    }

    private static let pageSize = Int(getpagesize())

    private static func map(path: String) throws -> UnsafeRawBufferPointer {
        func failure(_ what: String) -> InputError {
            InputError(file: path, "\(what): \(String(cString: strerror(errno)))")
        }
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw failure("cannot open") }
        defer { close(descriptor) }

        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw failure("cannot stat") }
        guard status.st_mode & S_IFMT == S_IFREG else { throw InputError(file: path, "not a regular file") }
        let size = Int(status.st_size)
        // mmap rejects empty lengths; the header check explains what is wrong with a tiny file.
        guard size >= 8 else {
            throw InputError(file: path, "file is \(size) bytes, too short for the 8-byte header length of a safetensors file")
        }
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0)
        guard let address, address != MAP_FAILED else { throw failure("cannot map") }
        return UnsafeRawBufferPointer(start: address, count: size)
    }

    private static func unmap(_ mapping: UnsafeRawBufferPointer) {
        if let base = mapping.baseAddress {
            munmap(UnsafeMutableRawPointer(mutating: base), mapping.count)
        }
    }
}
