import Foundation
import Shared

/// The parsed and validated header of a safetensors file: an 8-byte little-endian length, then
/// that many bytes of JSON mapping each tensor name to `{dtype, shape, data_offsets}`, where the
/// offsets count from the first byte after the header. Every check happens here, once, so that
/// reading a tensor later can trust its byte range.
struct SafetensorsHeader {
    /// Larger headers are not checkpoints but damage (or an attack on memory).
    static let maximumLength = 100_000_000

    let tensors: [String: SafetensorsTensorInfo]
    let metadata: [String: String]

    /// Parses the header at the start of `file`, the whole file's bytes; `path` names it in errors.
    init(file: UnsafeRawBufferPointer, path: String) throws {
        func reject(_ problem: String) -> InputError { InputError(file: path, problem) }

        guard file.count >= 8 else {
            throw reject("file is \(file.count) bytes, too short for the 8-byte header length of a safetensors file")
        }
        let declaredLength = UInt64(littleEndian: file.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        guard declaredLength <= UInt64(Self.maximumLength) else {
            throw reject("header length \(declaredLength) is larger than \(Self.maximumLength) bytes; not a safetensors file")
        }
        let headerLength = Int(declaredLength)
        guard headerLength <= file.count - 8 else {
            throw reject("header length \(headerLength) runs past the end of the file (\(file.count) bytes)")
        }
        let dataStart = 8 + headerLength
        let dataLength = file.count - dataStart

        let json = Data(UnsafeRawBufferPointer(rebasing: file[8..<dataStart]))
        let raw: RawHeader
        do {
            raw = try JSONDecoder().decode(RawHeader.self, from: json)
        } catch let problem as HeaderProblem {
            throw reject(problem.message)
        } catch {
            throw reject("header is not valid JSON: \(describeJSONError(error))")
        }

        var tensors: [String: SafetensorsTensorInfo] = [:]
        tensors.reserveCapacity(raw.entries.count)
        for (name, entry) in raw.entries {
            let dtype = try Self.dtype(of: entry, named: name, reject: reject)
            let range = try Self.validatedRange(of: entry, dtype: dtype, named: name, dataLength: dataLength,
                                                reject: reject)
            tensors[name] = SafetensorsTensorInfo(
                name: name, dtype: dtype, shape: entry.shape,
                byteRange: (dataStart + range.lowerBound)..<(dataStart + range.upperBound))
        }
        try Self.checkNoOverlap(tensors.values, reject: reject)
        self.tensors = tensors
        self.metadata = raw.metadata
    }

    private static func dtype(of entry: RawEntry, named name: String,
                              reject: (String) -> InputError) throws -> SafetensorsDType {
        guard let dtype = SafetensorsDType(rawValue: entry.dtype) else {
            let supported = SafetensorsDType.allCases.map(\.rawValue).joined(separator: ", ")
            throw reject("tensor \"\(name)\" has unsupported dtype \"\(entry.dtype)\" (supported: \(supported))")
        }
        return dtype
    }

    /// The tensor's byte range relative to the data section, after checking that it is exactly
    /// the size its shape and dtype need and lies inside the file. All arithmetic is checked.
    private static func validatedRange(of entry: RawEntry, dtype: SafetensorsDType, named name: String,
                                       dataLength: Int, reject: (String) -> InputError) throws -> Range<Int> {
        let tensor = "tensor \"\(name)\""
        var elements = 1
        for dimension in entry.shape {
            guard dimension >= 0 else { throw reject("\(tensor) has a negative dimension in shape \(entry.shape)") }
            let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw reject("\(tensor) has shape \(entry.shape), too large to address") }
            elements = product
        }
        let (byteCount, overflow) = elements.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow else { throw reject("\(tensor) has shape \(entry.shape), too large to address") }

        guard entry.dataOffsets.count == 2 else {
            throw reject("\(tensor) has data_offsets \(entry.dataOffsets); expected [begin, end]")
        }
        let begin = entry.dataOffsets[0], end = entry.dataOffsets[1]
        guard begin >= 0, end >= begin else {
            throw reject("\(tensor) has data_offsets [\(begin), \(end)], not a range of non-negative offsets")
        }
        guard end - begin == byteCount else {
            throw reject("\(tensor) has data_offsets [\(begin), \(end)] spanning \(end - begin) bytes, but shape \(entry.shape) of \(dtype.rawValue) needs \(byteCount)")
        }
        guard end <= dataLength else {
            throw reject("\(tensor) has data_offsets [\(begin), \(end)] past the end of the data (\(dataLength) bytes)")
        }
        return begin..<end
    }

    /// Two tensors sharing bytes would alias silently; empty tensors occupy no bytes.
    private static func checkNoOverlap(_ tensors: some Collection<SafetensorsTensorInfo>,
                                       reject: (String) -> InputError) throws {
        let byStart = tensors.filter { !$0.byteRange.isEmpty }
            .sorted { ($0.byteRange.lowerBound, $0.name) < ($1.byteRange.lowerBound, $1.name) }
        for (previous, next) in zip(byStart, byStart.dropFirst())
        where next.byteRange.lowerBound < previous.byteRange.upperBound {
            throw reject("tensors \"\(previous.name)\" and \"\(next.name)\" overlap")
        }
    }
}

/// A header problem found while decoding, already worded for the user.
private struct HeaderProblem: Error {
    let message: String
}

private struct RawEntry: Decodable {
    let dtype: String
    let shape: [Int]
    let dataOffsets: [Int]

    enum CodingKeys: String, CodingKey {
        case dtype, shape
        case dataOffsets = "data_offsets"
    }
}

/// The header's JSON object: tensor entries plus the optional `__metadata__` string map.
private struct RawHeader: Decodable {
    let entries: [String: RawEntry]
    let metadata: [String: String]

    private struct Key: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    private static let metadataKey = "__metadata__"

    init(from decoder: any Decoder) throws {
        let container: KeyedDecodingContainer<Key>
        do {
            container = try decoder.container(keyedBy: Key.self)
        } catch {
            throw HeaderProblem(message: "header is not a JSON object")
        }
        var entries: [String: RawEntry] = [:]
        var metadata: [String: String] = [:]
        for key in container.allKeys {
            if key.stringValue == Self.metadataKey {
                do {
                    metadata = try container.decode([String: String].self, forKey: key)
                } catch {
                    throw HeaderProblem(message: "\(Self.metadataKey) must map strings to strings")
                }
                continue
            }
            do {
                entries[key.stringValue] = try container.decode(RawEntry.self, forKey: key)
            } catch {
                throw HeaderProblem(message: "tensor \"\(key.stringValue)\" has a malformed entry: \(Self.describeEntryError(error))")
            }
        }
        self.entries = entries
        self.metadata = metadata
    }

    /// Entry errors worded relative to the entry (the tensor name is already in the message).
    private static func describeEntryError(_ error: Error) -> String {
        let expectation = "expected {\"dtype\": string, \"shape\": [integers], \"data_offsets\": [begin, end]}"
        guard case DecodingError.keyNotFound(let key, _) = error else { return expectation }
        return "missing \"\(key.stringValue)\"; \(expectation)"
    }
}
