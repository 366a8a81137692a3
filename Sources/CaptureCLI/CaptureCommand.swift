import ArgumentParser
import Capture

@main
struct CaptureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "icl-capture",
        abstract: "Runs a language model on in-context-learning prompts and records what attention heads do.",
        discussion: """
            Example:
              icl-capture logits --model models/SmolLM2-135M-Instruct.Q4_1.gguf --prompt "Q: hot\\nA: cold\\n\\nQ: big\\nA:"
            """,
        subcommands: [RunCommand.self, InterveneCommand.self, PackCommand.self, SchemaCommand.self, InspectCommand.self, TokenizeCommand.self, LogitsCommand.self, GenerateCommand.self])
}
