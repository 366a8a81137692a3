import ArgumentParser
import Capture
import Shared

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Continues a prompt greedily (KV-cached), stopping at EOS or after --max-new-tokens.",
        discussion: """
            Example:
              icl-capture generate --model models/SmolLM2-135M-Instruct.Q4_1.gguf --prompt "Q: hot\\nA: cold\\n\\nQ: big\\nA:" --max-new-tokens 5
            """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var bos: BOSOptions
    @Option(help: "The prompt.") var prompt: String
    @Option(parsing: .unconditional, help: "Most tokens to generate.") var maxNewTokens = 20
    @Flag(help: "Print {\"ids\": [...], \"new_ids\": [...], \"text\": \"...\"} as JSON.") var json = false

    struct Report: Encodable {
        let ids: [Int32]
        let newIDs: [Int32]
        let text: String
        enum CodingKeys: String, CodingKey { case ids, newIDs = "new_ids", text }
    }

    func validate() throws {
        if maxNewTokens < 0 { throw ValidationError("--max-new-tokens must not be negative") }
    }

    func run() throws {
        let loaded = try model.load()
        let ids = try bos.encodePrompt(prompt, with: loaded.tokenizer)
        // Bounded up front: the KV cache is reserved for prompt + new tokens, and the context
        // would end the generation anyway.
        let room = loaded.config.contextLength - ids.count
        guard room > 0 else {
            throw InputError(file: model.model, "the prompt has \(ids.count) tokens, the model's context \(loaded.config.contextLength): no room to generate")
        }
        if maxNewTokens > room {
            throw InputError(file: model.model, "--max-new-tokens \(maxNewTokens): the prompt has \(ids.count) tokens and the model's context is \(loaded.config.contextLength), so at most \(room) new tokens fit")
        }
        let stop = Set([loaded.tokenizer.eosTokenID].compactMap { $0 })
        let new = try loaded.transformer.generateGreedy(prompts: [ids], maxNewTokens: maxNewTokens, stopTokens: stop)[0]
        let text = loaded.tokenizer.decode(new)
        if json { return try printJSON(Report(ids: ids, newIDs: new, text: text)) }
        print(text)
    }
}
