import ArgumentParser
import Shared

struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Prints the dump format: every group, dataset, dimension, type and attribute.",
        discussion: """
            The same text as schemas/dump-v1.json (or .md with --markdown).
            Example:
              icl-capture schema --markdown
            """)

    @Flag(help: "Markdown instead of JSON.") var markdown = false

    func run() {
        print(markdown ? DumpSchema.markdown : DumpSchema.json, terminator: "")
    }
}
