import Foundation
import Shared

public enum ModelFormat: String, Sendable {
    case gguf = "GGUF"
    case huggingFace = "Hugging Face safetensors"
}

/// A model ready to run: the engine with its fp32 weights, the tokenizer, and what the files
/// said about themselves.
public struct LoadedModel {
    public let path: String
    public let format: ModelFormat
    public let config: ModelConfig
    public let transformer: Transformer
    public let tokenizer: any Tokenizer
    /// How the checkpoint stores its tensors: storage type name -> tensor count.
    public let tensorTypes: [String: Int]
    /// The model's own name, when the files give one.
    public let name: String?
}

public enum ModelLoader {
    /// Loads a GGUF file, or a Hugging Face folder (config.json, *.safetensors, tokenizer.json);
    /// a path to a .safetensors file or config.json inside such a folder means the folder.
    public static func load(path: String) throws -> LoadedModel {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw InputError(file: path, "no such file or directory")
        }
        if isDirectory.boolValue { return try loadHuggingFace(directory: URL(fileURLWithPath: path)) }
        let url = URL(fileURLWithPath: path)
        if ["safetensors", "json"].contains(url.pathExtension) {
            return try loadHuggingFace(directory: url.deletingLastPathComponent())
        }
        guard try hasGGUFMagic(path) else {
            throw InputError(file: path, "not a GGUF file (no GGUF magic) nor a Hugging Face model folder")
        }
        return try loadGGUF(path: path)
    }

    private static func hasGGUFMagic(_ path: String) throws -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw InputError(file: path, "cannot be read")
        }
        defer { try? handle.close() }
        let magic = try handle.read(upToCount: 4) ?? Data()
        return magic == Data("GGUF".utf8)
    }

    private static func loadGGUF(path: String) throws -> LoadedModel {
        // The file stays mapped only while the weights are read: its pages are gone before the
        // Transformer packs a second copy of the weights (peak memory).
        let (config, tokenizer, weights, types, name) = try { () throws -> (ModelConfig, any Tokenizer, ModelWeights, [String: Int], String?) in
            let file = try GGUFFile(path: path)
            let config = try ModelConfig(gguf: file)
            let tokenizer = try TokenizerLoader.load(gguf: try GGUFTokenizerData(gguf: file), source: path)
            let weights = try WeightAssembler(source: GGUFTensorSource(file: file), names: .gguf, config: config,
                                              undoQueryKeyPermutation: config.architecture == .llama).assemble()
            let types = Dictionary(file.tensors.map { ($0.type.name, 1) }, uniquingKeysWith: +)
            return (config, tokenizer, weights, types, try file.optionalString("general.name"))
        }()
        return LoadedModel(path: path, format: .gguf, config: config,
                           transformer: try Transformer(config: config, weights: weights, source: path),
                           tokenizer: tokenizer, tensorTypes: types, name: name)
    }

    private static func loadHuggingFace(directory: URL) throws -> LoadedModel {
        let configURL = directory.appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: configURL.path) else {
            throw InputError(file: directory.path, "not a Hugging Face model folder: config.json is missing")
        }
        let config = try ModelConfig(huggingFaceConfigAt: configURL)
        let tokenizer = try TokenizerLoader.load(directory: directory)
        // As for GGUF: the checkpoint's mappings are released before the weights are packed.
        let (weights, types) = try { () throws -> (ModelWeights, [String: Int]) in
            let checkpoint = try SafetensorsCheckpoint(directory: directory)
            let tensors = SafetensorsTensorSource(checkpoint: checkpoint)
            let (source, names): (TensorSource, WeightNames) = switch config.architecture {
            case .gpt2: (GPT2TensorSource(base: tensors), .gpt2)
            case .gptNeoX: (GPTNeoXTensorSource(base: tensors, headCount: config.headCount), .gptNeoX)
            case .gemma3: (tensors, .gemma3)
            case .llama, .qwen2: (tensors, .huggingFace)
            }
            let weights = try WeightAssembler(source: source, names: names, config: config,
                                              undoQueryKeyPermutation: false,
                                              normWeightOffset: config.architecture == .gemma3 ? 1 : 0).assemble()
            let types = Dictionary(checkpoint.tensorNames.compactMap { checkpoint.info($0) }.map { ($0.dtype.rawValue, 1) },
                                   uniquingKeysWith: +)
            return (weights, types)
        }()
        return LoadedModel(path: directory.path, format: .huggingFace, config: config,
                           transformer: try Transformer(config: config, weights: weights, source: directory.path),
                           tokenizer: tokenizer, tensorTypes: types, name: directory.lastPathComponent)
    }
}
