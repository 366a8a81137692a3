import ArgumentParser
import Capture

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Shows the token ids of a text.",
        discussion: """
            Example:
              icl-capture tokenize --model models/SmolLM2-135M-Instruct.Q4_1.gguf --text "Q: hot\\nA: cold" --json
              {"ids":[48,42,3254,198,32,42,3679]}
            """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var bos: BOSOptions
    @Option(help: "The text to tokenize.") var text: String
    @Flag(help: "Print {\"ids\": [...]} as JSON.") var json = false

    func run() throws {
        let loaded = try model.load()
        let ids = bos.encode(text, with: loaded.tokenizer)
        if json { return try printJSON(["ids": ids]) }
        for id in ids { print("\(id)\t\(loaded.tokenizer.tokenText(id).debugDescription)") }
    }
}
