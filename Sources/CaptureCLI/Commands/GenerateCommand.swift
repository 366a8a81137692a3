import ArgumentParser
import Capture

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
    @Option(help: "Most tokens to generate.") var maxNewTokens = 20
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
        let ids = bos.encode(prompt, with: loaded.tokenizer)
        let stop = Set([loaded.tokenizer.eosTokenID].compactMap { $0 })
        let new = try loaded.transformer.generateGreedy(prompts: [ids], maxNewTokens: maxNewTokens, stopTokens: stop)[0]
        let text = loaded.tokenizer.decode(new)
        if json { return try printJSON(Report(ids: ids, newIDs: new, text: text)) }
        print(text)
    }
}
