import ArgumentParser
import Capture

struct LogitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logits",
        abstract: "Runs a prompt and shows the top next-token logits at its last position.",
        discussion: """
            Log-probabilities are over the full vocabulary.
            Example:
              icl-capture logits --model models/SmolLM2-135M-Instruct.Q4_1.gguf --prompt "The capital of France is" --top 3 --json
            """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var bos: BOSOptions
    @Option(help: "The prompt.") var prompt: String
    @Option(parsing: .unconditional, help: "How many of the highest logits to show.") var top = 10
    @Flag(help: "Print {\"ids\": [...], \"top\": [{\"id\", \"token\", \"logit\", \"logprob\"}, ...]} as JSON.") var json = false

    struct Entry: Encodable {
        let id: Int32
        let token: String
        let logit: Float
        let logprob: Float
    }

    struct Report: Encodable {
        let ids: [Int32]
        let top: [Entry]
    }

    func validate() throws {
        if top < 1 { throw ValidationError("--top must be at least 1") }
    }

    func run() throws {
        let loaded = try model.load()
        let ids = try bos.encodePrompt(prompt, with: loaded.tokenizer)
        let logits = try loaded.transformer.forward(tokens: ids).lastLogits(of: 0)
        let logSumExp = LogitStatistics.logSumExp(logits)
        let entries = LogitStatistics.topIndices(logits, count: top).map { id in
            let logit = logits[logits.startIndex + id]
            return Entry(id: Int32(id), token: loaded.tokenizer.tokenText(Int32(id)), logit: logit,
                         logprob: Float(Double(logit) - logSumExp))
        }
        if json { return try printJSON(Report(ids: ids, top: entries)) }
        print("prompt tokens: \(ids.count)")
        for entry in entries {
            print("\(entry.id)\t\(entry.token.debugDescription)\tlogit \(entry.logit)\tlogprob \(entry.logprob)")
        }
    }
}
