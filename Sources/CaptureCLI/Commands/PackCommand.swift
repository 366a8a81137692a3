import ArgumentParser
import CLISupport
import Shared

struct PackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pack",
        abstract: "Writes a compressed copy of a finished dump (chunked, gzip), for sharing.",
        discussion: """
            Capture never compresses while it streams (chunk indexes that change as they are written do not survive a kill); compress a complete dump with this instead. Readers see the same datasets, values, attributes and named dimensions. A source with a checksum file (DUMP.h5.sha256) is checked against it first; the copy gets its own (OUT.sha256).

            Example:
              icl-capture pack out/demo.h5 out/demo.packed.h5 --level 4
            """)

    @Argument(help: "The dump to compress.") var input: String
    @Argument(help: "The compressed copy to write.") var output: String
    @Option(parsing: .unconditional, help: "gzip level, 1 (fast) to 9 (small).") var level = 4

    func validate() throws {
        try OutputPath.validateFile(output, option: "OUT", ifExists: nil)
        if OutputPath.sameFile(input, output) { throw InputError(file: output, "is the dump itself: write the copy to another file") }
    }

    func run() throws {
        try DumpPacker.pack(input, into: output, level: level)
    }
}
