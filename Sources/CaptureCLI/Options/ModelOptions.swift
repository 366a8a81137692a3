import ArgumentParser
import Capture
import Shared

/// --model and --threads: every command that loads and runs a model takes these.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("A GGUF file or a Hugging Face model folder (config.json, *.safetensors, tokenizer.json).", valueName: "path"))
    var model: String

    @Option(name: .long, parsing: .unconditional, help: "Compute threads (default: all cores).")
    var threads: Int?

    func validate() throws {
        if model.isEmpty { throw ValidationError("--model must name a GGUF file or a Hugging Face model folder") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    /// Sets the thread count, then loads the model.
    func load() throws -> LoadedModel {
        ComputeThreads.set(threads ?? ComputeThreads.count)
        return try ModelLoader.load(path: model)
    }
}

/// --bos / --no-bos: overrides whether BOS starts the prompt (default: the model's own config).
struct BOSOptions: ParsableArguments {
    @Flag(inversion: .prefixedNo, help: "Prepend BOS, or not (default: as the model's tokenizer config says).")
    var bos: Bool?

    func encode(_ text: String, with tokenizer: any Tokenizer) -> [Int32] {
        tokenizer.encode(text, addBOS: bos ?? tokenizer.addsBOSByDefault)
    }

    /// The prompt's token ids for a forward pass, which needs at least one.
    func encodePrompt(_ text: String, with tokenizer: any Tokenizer) throws -> [Int32] {
        let ids = encode(text, with: tokenizer)
        if ids.isEmpty { throw InputError(file: nil, "--prompt \(text.debugDescription) has no tokens (and no BOS is added): nothing to run") }
        return ids
    }
}
