import ArgumentParser
import Capture

@main
struct CaptureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "icl-capture",
        abstract: "Runs a language model on in-context-learning prompts and records what attention heads do.",
        subcommands: [])
}
