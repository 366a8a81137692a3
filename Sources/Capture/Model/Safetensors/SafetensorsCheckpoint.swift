import Foundation
import Shared

/// The weights of a Hugging Face checkpoint directory: either one `model.safetensors`, or
/// `model.safetensors.index.json` whose `weight_map` assigns each tensor to a shard file.
/// Like transformers, a single file is preferred when both are present. Every shard is opened
/// (and its header validated) up front, and every tensor of the weight map must be in its shard.
public final class SafetensorsCheckpoint: @unchecked Sendable {
    public static let singleFileName = "model.safetensors"
    public static let indexFileName = "model.safetensors.index.json"

    public let directory: URL
    /// Each tensor name's file; immutable after init.
    private let fileOfTensor: [String: SafetensorsFile]

    public init(directory: URL) throws {
        self.directory = directory
        let single = directory.appendingPathComponent(Self.singleFileName)
        let index = directory.appendingPathComponent(Self.indexFileName)
        if FileManager.default.fileExists(atPath: single.path) {
            let file = try SafetensorsFile(path: single.path)
            fileOfTensor = file.tensors.mapValues { _ in file }
        } else if FileManager.default.fileExists(atPath: index.path) {
            fileOfTensor = try Self.openShards(index: index, directory: directory)
        } else {
            throw InputError(file: directory.path,
                             "no \(Self.singleFileName) or \(Self.indexFileName) in this directory")
        }
    }

    /// All tensor names, sorted.
    public var tensorNames: [String] { fileOfTensor.keys.sorted() }

    public func info(_ name: String) -> SafetensorsTensorInfo? {
        fileOfTensor[name]?.tensors[name]
    }

    /// The file holding a tensor, for callers that need its path or its integer readers.
    public func file(containing name: String) -> SafetensorsFile? {
        fileOfTensor[name]
    }

    /// The elements of an F32, F16 or BF16 tensor as Float, exactly.
    public func floats(_ name: String) throws -> [Float] {
        guard let file = fileOfTensor[name] else {
            throw InputError(file: directory.path, "no tensor named \"\(name)\" in this checkpoint")
        }
        return try file.floats(name)
    }

    private struct Index: Decodable {
        let weightMap: [String: String]

        enum CodingKeys: String, CodingKey {
            case weightMap = "weight_map"
        }
    }

    private static func openShards(index: URL, directory: URL) throws -> [String: SafetensorsFile] {
        let text: Data
        do {
            text = try Data(contentsOf: index)
        } catch {
            throw InputError(file: index.path, "cannot read: \(error.localizedDescription)")
        }
        let weightMap: [String: String]
        do {
            weightMap = try JSONDecoder().decode(Index.self, from: text).weightMap
        } catch {
            throw InputError(file: index.path, "not a valid safetensors index: \(describeJSONError(error))")
        }

        var shards: [String: SafetensorsFile] = [:]
        var fileOfTensor: [String: SafetensorsFile] = [:]
        for (tensor, shardName) in weightMap.sorted(by: { $0.key < $1.key }) {
            // Shards live beside the index; a path out of the directory is not a checkpoint's.
            guard !shardName.isEmpty, !shardName.hasPrefix("/"),
                  !shardName.split(separator: "/").contains("..") else {
                throw InputError(file: index.path, "tensor \"\(tensor)\" maps to \"\(shardName)\", not a file in this directory")
            }
            let shard: SafetensorsFile
            if let opened = shards[shardName] {
                shard = opened
            } else {
                let path = directory.appendingPathComponent(shardName).path
                guard FileManager.default.fileExists(atPath: path) else {
                    throw InputError(file: path, "shard named in \(indexFileName) (for tensor \"\(tensor)\") does not exist")
                }
                shard = try SafetensorsFile(path: path)
                shards[shardName] = shard
            }
            guard shard.tensors[tensor] != nil else {
                throw InputError(file: shard.path, "has no tensor \"\(tensor)\", which \(indexFileName) places in it")
            }
            fileOfTensor[tensor] = shard
        }
        return fileOfTensor
    }
}
