import Analyze
import ArgumentParser
import Foundation
import Shared

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Verifies dumps: checksum, schema, done flags and the invariants the analysis relies on.",
        discussion: """
            In order: the DUMP.h5.sha256 file (before HDF5 reads the dump), every dataset's shape, type and dimension names, done flags, that embedding + heads + biases + MLPs reproduce the stored label logits, that stored head and residual label projections equal recomputed ones, that answer-position attention rows sum to 1, and that no score matrix is constant. Exits 1 naming the first failed check.

            Example:
              icl-analyze check out/demo.h5
            """)

    @Argument(help: "Dump files (several: the shards of a capture, or several captures).") var dumps: [String]

    func run() throws {
        HDF5Watchdog.arm(files: dumps)
        do {
            try DumpCheck.run(dumps) { print($0) }
        } catch let failure as DumpCheck.Failure {
            FileHandle.standardError.write(Data("icl-analyze: \(failure)\n".utf8))
            throw ExitCode(1)
        }
        print("all checks passed")
    }
}
