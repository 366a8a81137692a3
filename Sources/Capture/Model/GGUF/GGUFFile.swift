import Shared

/// A GGUF model file (ggml docs/gguf.md), versions 2 and 3: its metadata, its tensor table, and
/// fp32 copies of its tensors on request. The file is memory-mapped read-only for the life of the
/// object and checked completely on open, so later reads stay in bounds; every problem is an
/// InputError naming the file.
public final class GGUFFile: @unchecked Sendable {
    public let path: String
    public let version: UInt32
    /// `general.alignment`, 32 when absent.
    public let alignment: Int
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    public let metadata: [String: GGUFValue]
    /// The tensor table in file order.
    public let tensors: [GGUFTensorInfo]
    /// Byte offset of the data section within the file; tensor offsets count from here.
    public let dataOffset: Int
    public var fileSize: Int { mapping.count }

    /// Never written after init, which is what makes sharing the object across threads sound.
    private let mapping: UnsafeRawBufferPointer
    private let tensorIndexByName: [String: Int]

    public init(path: String) throws {
        let mapping = try ReadOnlyMapping.map(path: path)
        let header: GGUFHeader
        do {
            var parser = GGUFHeaderParser(bytes: mapping, file: path)
            header = try parser.parse()
        } catch {
            ReadOnlyMapping.unmap(mapping)
            throw error
        }
        self.path = path
        self.mapping = mapping
        version = header.version
        alignment = header.alignment
        metadataKeys = header.metadataKeys
        metadata = header.metadata
        tensors = header.tensors
        dataOffset = header.dataOffset
        tensorIndexByName = Dictionary(header.tensors.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    deinit {
        ReadOnlyMapping.unmap(mapping)
    }

    public func tensorInfo(named name: String) -> GGUFTensorInfo? {
        tensorIndexByName[name].map { tensors[$0] }
    }

    /// The raw stored bytes of one of this file's tensors, valid while the file object lives.
    public func rawBytes(of tensor: GGUFTensorInfo) throws -> UnsafeRawBufferPointer {
        guard tensorInfo(named: tensor.name) == tensor else {
            throw InputError(file: path, "tensor \(tensor.name) is not in this file's tensor table")
        }
        // The parser checked that every table entry lies inside the file.
        let start = dataOffset + tensor.offset
        return UnsafeRawBufferPointer(rebasing: mapping[start..<(start + tensor.byteCount)])
    }

    /// fp32 values in ggml order (ne[0] fastest), i.e. row-major [ne[n-1], ..., ne[0]].
    public func dequantize(_ tensor: GGUFTensorInfo) throws -> [Float] {
        try tensor.type.dequantize(rawBytes(of: tensor), elementCount: tensor.elementCount,
                                   file: path, tensor: tensor.name)
    }
}
