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
    /// `weightPacking` decides whether the engine keeps packed weights (see WeightPacking).
    public static func load(path: String, weightPacking: WeightPacking = .automatic) throws -> LoadedModel {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw InputError(file: path, "no such file or directory")
        }
        if isDirectory.boolValue {
            return try loadHuggingFace(directory: URL(fileURLWithPath: path), weightPacking: weightPacking)
        }
        let url = URL(fileURLWithPath: path)
        if ["safetensors", "json"].contains(url.pathExtension) {
            return try loadHuggingFace(directory: url.deletingLastPathComponent(), weightPacking: weightPacking)
        }
        guard try hasGGUFMagic(path) else {
            throw InputError(file: path, "not a GGUF file (no GGUF magic) nor a Hugging Face model folder")
        }
        return try loadGGUF(path: path, weightPacking: weightPacking)
    }

    private static func hasGGUFMagic(_ path: String) throws -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw InputError(file: path, "cannot be read")
        }
        defer { try? handle.close() }
        let magic = try handle.read(upToCount: 4) ?? Data()
        return magic == Data("GGUF".utf8)
    }

    private static func loadGGUF(path: String, weightPacking: WeightPacking) throws -> LoadedModel {
        let config: ModelConfig, tokenizer: any Tokenizer, weights: ModelWeights, types: [String: Int], name: String?
        do {
            // The file stays mapped only while the weights are read: its pages are gone before
            // the Transformer packs a second copy of the weights (peak memory).
            let file = try GGUFFile(path: path)
            config = try ModelConfig(gguf: file)
            tokenizer = try TokenizerLoader.load(gguf: try GGUFTokenizerData(gguf: file), source: path)
            weights = try WeightAssembler(source: GGUFTensorSource(file: file), names: .gguf, config: config,
                                          undoQueryKeyPermutation: config.architecture == .llama).assemble()
            types = Dictionary(file.tensors.map { ($0.type.name, 1) }, uniquingKeysWith: +)
            name = try file.optionalString("general.name")
        }
        return LoadedModel(path: path, format: .gguf, config: config,
                           transformer: try Transformer(config: config, weights: weights, source: path,
                                                        weightPacking: weightPacking),
                           tokenizer: tokenizer, tensorTypes: types, name: name)
    }

    private static func loadHuggingFace(directory: URL, weightPacking: WeightPacking) throws -> LoadedModel {
        let configURL = directory.appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: configURL.path) else {
            throw InputError(file: directory.path, "not a Hugging Face model folder: config.json is missing")
        }
        let config = try ModelConfig(huggingFaceConfigAt: configURL)
        let tokenizer = try TokenizerLoader.load(directory: directory)
        let weights: ModelWeights, types: [String: Int]
        do {
            // As for GGUF: the checkpoint's mappings are released before the weights are packed.
            let checkpoint = try SafetensorsCheckpoint(directory: directory)
            let tensors = SafetensorsTensorSource(checkpoint: checkpoint)
            let (source, names): (TensorSource, WeightNames) = switch config.architecture {
            case .gpt2: (GPT2TensorSource(base: tensors), .gpt2)
            case .gptNeoX: (GPTNeoXTensorSource(base: tensors, headCount: config.headCount), .gptNeoX)
            case .gemma3: (tensors, .gemma3)
            case .llama, .qwen2: (tensors, .huggingFace)
            }
            weights = try WeightAssembler(source: source, names: names, config: config,
                                          undoQueryKeyPermutation: false,
                                          normWeightOffset: config.architecture == .gemma3 ? 1 : 0).assemble()
            types = Dictionary(checkpoint.tensorNames.compactMap { checkpoint.info($0) }.map { ($0.dtype.rawValue, 1) },
                               uniquingKeysWith: +)
        }
        return LoadedModel(path: directory.path, format: .huggingFace, config: config,
                           transformer: try Transformer(config: config, weights: weights, source: directory.path,
                                                        weightPacking: weightPacking),
                           tokenizer: tokenizer, tensorTypes: types, name: directory.lastPathComponent)
    }
}
