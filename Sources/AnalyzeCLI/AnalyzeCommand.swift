import Analyze
import ArgumentParser
import CLISupport

@main
struct AnalyzeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "icl-analyze",
        abstract: "Scores attention heads for in-context learning from icl-capture dumps, without the model.",
        discussion: """
            Example:
              icl-analyze report out/demo.h5 --out out/report
              icl-analyze check out/demo.h5
            """,
        version: "0.1.0 (commit \(BuildCommit.value))",
        subcommands: [InfoCommand.self, ReportCommand.self, HeadsCommand.self, VectorCommand.self, CheckCommand.self])

    static func main() {
        CommandMain.run(Self.self)
    }
}
