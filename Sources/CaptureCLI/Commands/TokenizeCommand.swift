import ArgumentParser
import Capture

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Shows the token ids of a text.",
        discussion: """
            Example:
              icl-capture tokenize --model models/SmolLM2-135M-Instruct.Q4_1.gguf --text "Q: hot\\nA: cold" --json
              {"ids":[65,42,3380,198,49,42,4011]}
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
