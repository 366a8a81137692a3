import Shared

/// Everything before a GGUF file's data section, parsed and checked.
struct GGUFHeader {
    var version: UInt32
    var alignment: Int
    var metadataKeys: [String]
    var metadata: [String: GGUFValue]
    var tensors: [GGUFTensorInfo]
    /// Byte offset of the data section: the end of the tensor table rounded up to the alignment.
    var dataOffset: Int
}

/// Parses the GGUF layout (ggml docs/gguf.md), all little-endian:
///
///     u32 magic "GGUF" | u32 version | u64 tensor count | u64 metadata count
///     metadata:  string key | u32 value type | value                      (× metadata count)
///     tensors:   string name | u32 n_dims | u64 ne[n_dims] | u32 ggml type | u64 offset  (× tensor count)
///     padding to `general.alignment` (default 32), then the data section
///
/// and rejects, with an InputError naming the file, anything that would make a later read go out
/// of bounds or a size overflow.
struct GGUFHeaderParser {
    static let magic: [UInt8] = Array("GGUF".utf8)
    static let supportedVersions: ClosedRange<UInt32> = 2...3
    static let defaultAlignment = 32
    static let maximumDimensions = 4
    /// Arrays of arrays are legal but unused in practice; the bound keeps recursion shallow.
    static let maximumArrayDepth = 4
    /// The smallest a metadata entry can be: empty key, type tag, one-byte value.
    static let minimumMetadataEntrySize = 8 + 4 + 1
    /// The smallest a tensor entry can be: empty name, n_dims, one dimension, type, offset.
    static let minimumTensorEntrySize = 8 + 4 + 8 + 4 + 8

    private var reader: GGUFByteReader

    init(bytes: UnsafeRawBufferPointer, file: String) {
        reader = GGUFByteReader(bytes: bytes, file: file)
    }

    mutating func parse() throws -> GGUFHeader {
        let magicBytes = try reader.take(4, for: "the magic number")
        guard magicBytes.elementsEqual(Self.magic) else {
            let hex = magicBytes.map { String($0, radix: 16) }.joined(separator: " ")
            throw reader.error("not a GGUF file: the magic bytes are \(hex), expected 47 47 55 46 (\"GGUF\")")
        }
        let version = try reader.uint32(for: "the version")
        guard Self.supportedVersions.contains(version) else {
            if Self.supportedVersions.contains(version.byteSwapped) {
                throw reader.error("big-endian GGUF files are not supported (version \(version.byteSwapped), byte-swapped)")
            }
            throw reader.error("unsupported GGUF version \(version) (expected 2 or 3)")
        }
        let tensorCount = try reader.uint64(for: "the tensor count")
        let metadataCount = try reader.uint64(for: "the metadata count")
        try checkCountsFit(tensorCount: tensorCount, metadataCount: metadataCount)

        var keys: [String] = []
        var metadata: [String: GGUFValue] = [:]
        for index in 0..<Int(metadataCount) {
            let key = try reader.string(for: "metadata key #\(index)")
            guard metadata[key] == nil else { throw reader.error("duplicate metadata key \(key)") }
            let rawType = try reader.uint32(for: "the value type of metadata key \(key)")
            guard let type = GGUFValueType(rawValue: rawType) else {
                throw reader.error("metadata key \(key) has unknown value type \(rawType)")
            }
            metadata[key] = try value(of: type, key: key, depth: 0)
            keys.append(key)
        }
        let alignment = try Self.alignment(from: metadata, reader: reader)

        var entries: [TensorEntry] = []
        var names: Set<String> = []
        for index in 0..<Int(tensorCount) {
            let entry = try tensorEntry(index: index)
            guard names.insert(entry.name).inserted else { throw reader.error("duplicate tensor name \(entry.name)") }
            entries.append(entry)
        }

        let headerEnd = reader.offset
        let dataOffset = headerEnd + (alignment - headerEnd % alignment) % alignment
        let tensors = try entries.map { try checkedTensor($0, alignment: alignment, dataOffset: dataOffset) }
        try checkNoOverlap(tensors)
        return GGUFHeader(version: version, alignment: alignment, metadataKeys: keys, metadata: metadata,
                          tensors: tensors, dataOffset: dataOffset)
    }

    /// Rejects counts that the rest of the file is too short to hold, before any loop trusts them.
    private func checkCountsFit(tensorCount: UInt64, metadataCount: UInt64) throws {
        let (tensorBytes, o1) = tensorCount.multipliedReportingOverflow(by: UInt64(Self.minimumTensorEntrySize))
        let (metadataBytes, o2) = metadataCount.multipliedReportingOverflow(by: UInt64(Self.minimumMetadataEntrySize))
        let (total, o3) = tensorBytes.addingReportingOverflow(metadataBytes)
        guard !o1, !o2, !o3, total <= UInt64(reader.remaining) else {
            throw reader.error("\(tensorCount) tensors and \(metadataCount) metadata entries cannot fit in the \(reader.remaining) bytes after the header")
        }
    }

    private mutating func value(of type: GGUFValueType, key: String, depth: Int) throws -> GGUFValue {
        let what = { "the value of metadata key \(key)" }
        switch type {
        case .uint8: return .uint8(try reader.uint8(for: what()))
        case .int8: return .int8(Int8(bitPattern: try reader.uint8(for: what())))
        case .uint16: return .uint16(try reader.uint16(for: what()))
        case .int16: return .int16(Int16(bitPattern: try reader.uint16(for: what())))
        case .uint32: return .uint32(try reader.uint32(for: what()))
        case .int32: return .int32(Int32(bitPattern: try reader.uint32(for: what())))
        case .float32: return .float32(Float(bitPattern: try reader.uint32(for: what())))
        case .uint64: return .uint64(try reader.uint64(for: what()))
        case .int64: return .int64(Int64(bitPattern: try reader.uint64(for: what())))
        case .float64: return .float64(Double(bitPattern: try reader.uint64(for: what())))
        case .string: return .string(try reader.string(for: what()))
        case .bool:
            let byte = try reader.uint8(for: what())
            guard byte <= 1 else { throw reader.error("metadata key \(key) has bool value \(byte), expected 0 or 1") }
            return .bool(byte == 1)
        case .array:
            return try array(key: key, depth: depth)
        }
    }

    private mutating func array(key: String, depth: Int) throws -> GGUFValue {
        guard depth < Self.maximumArrayDepth else {
            throw reader.error("metadata key \(key) nests arrays more than \(Self.maximumArrayDepth) deep")
        }
        let rawType = try reader.uint32(for: "the element type of metadata key \(key)")
        guard let elementType = GGUFValueType(rawValue: rawType) else {
            throw reader.error("metadata key \(key) is an array of unknown value type \(rawType)")
        }
        let count = try reader.uint64(for: "the element count of metadata key \(key)")
        guard count <= UInt64(reader.remaining / elementType.minimumSize) else {
            throw reader.error("metadata key \(key) claims \(count) elements of type \(elementType.name), more than the remaining \(reader.remaining) bytes can hold")
        }
        var elements: [GGUFValue] = []
        elements.reserveCapacity(Int(count))
        for _ in 0..<Int(count) {
            elements.append(try value(of: elementType, key: key, depth: depth + 1))
        }
        return .array(elementType: elementType, elements)
    }

    private static func alignment(from metadata: [String: GGUFValue], reader: GGUFByteReader) throws -> Int {
        guard let value = metadata["general.alignment"] else { return defaultAlignment }
        guard case .uint32(let alignment) = value else {
            throw reader.error("metadata key general.alignment has type \(value.typeDescription), expected uint32")
        }
        guard alignment != 0, alignment & (alignment - 1) == 0 else {
            throw reader.error("general.alignment is \(alignment), expected a power of two")
        }
        return Int(alignment)
    }

    /// A tensor table entry as read, before its size and place are checked.
    private struct TensorEntry {
        var name: String
        var dimensions: [Int]
        var type: GGMLType
        var rawOffset: UInt64
        var elementCount: Int
    }

    private mutating func tensorEntry(index: Int) throws -> TensorEntry {
        let name = try reader.string(for: "the name of tensor #\(index)")
        let dimensionCount = try reader.uint32(for: "the dimension count of tensor \(name)")
        guard (1...UInt32(Self.maximumDimensions)).contains(dimensionCount) else {
            throw reader.error("tensor \(name) has \(dimensionCount) dimensions, expected 1 to \(Self.maximumDimensions)")
        }
        var dimensions: [Int] = []
        var elementCount = 1
        for axis in 0..<Int(dimensionCount) {
            let raw = try reader.uint64(for: "dimension \(axis) of tensor \(name)")
            guard raw > 0 else { throw reader.error("tensor \(name) has dimension \(axis) of size 0") }
            guard let size = Int(exactly: raw), case (let product, false) = elementCount.multipliedReportingOverflow(by: size) else {
                throw reader.error("tensor \(name) has too many elements (dimension \(axis) is \(raw))")
            }
            dimensions.append(size)
            elementCount = product
        }
        let rawType = try reader.uint32(for: "the type of tensor \(name)")
        guard let type = GGMLType(rawValue: rawType) else {
            throw reader.error("tensor \(name) has unknown ggml type id \(rawType)")
        }
        let rawOffset = try reader.uint64(for: "the data offset of tensor \(name)")
        return TensorEntry(name: name, dimensions: dimensions, type: type, rawOffset: rawOffset, elementCount: elementCount)
    }

    private func checkedTensor(_ entry: TensorEntry, alignment: Int, dataOffset: Int) throws -> GGUFTensorInfo {
        let name = entry.name, type = entry.type
        // ggml stores whole blocks per row, so the row length (ne[0]) must be a multiple.
        guard entry.dimensions[0] % type.blockSize == 0 else {
            throw reader.error("tensor \(name) has first dimension \(entry.dimensions[0]), expected a multiple of the \(type.name) block size \(type.blockSize)")
        }
        guard let byteCount = type.byteCount(elementCount: entry.elementCount) else {
            throw reader.error("tensor \(name) is too large: \(entry.elementCount) \(type.name) elements overflow the byte count")
        }
        guard entry.rawOffset % UInt64(alignment) == 0 else {
            throw reader.error("tensor \(name) has data offset \(entry.rawOffset), expected a multiple of the alignment \(alignment)")
        }
        let fileSize = reader.bytes.count
        let start = UInt64(dataOffset).addingReportingOverflow(entry.rawOffset)
        let end = start.partialValue.addingReportingOverflow(UInt64(byteCount))
        guard !start.overflow, !end.overflow, end.partialValue <= UInt64(fileSize) else {
            throw reader.error("tensor \(name) data (\(byteCount) bytes at data offset \(entry.rawOffset), data section at \(dataOffset)) runs past the end of the file (\(fileSize) bytes)")
        }
        return GGUFTensorInfo(name: name, dimensions: entry.dimensions, type: type, offset: Int(entry.rawOffset),
                              byteCount: byteCount, elementCount: entry.elementCount)
    }

    private func checkNoOverlap(_ tensors: [GGUFTensorInfo]) throws {
        let byOffset = tensors.sorted { $0.offset < $1.offset }
        for (previous, next) in zip(byOffset, byOffset.dropFirst()) where previous.offset + previous.byteCount > next.offset {
            throw reader.error("tensors \(previous.name) (data bytes \(previous.offset)..<\(previous.offset + previous.byteCount)) and \(next.name) (from \(next.offset)) overlap")
        }
    }
}
