import ArgumentParser
import Foundation

/// The entry point of both tools: runs the command the arguments name, and reports every
/// failure alike, whatever raised it (a bad option value caught by the argument parser, a
/// command's own validation, an `InputError` from a file): one line `error: ...` on stderr
/// and exit status 1. Help and --version print as the argument parser prints them.
public enum CommandMain {
    public static func run<Root: ParsableCommand>(_ root: Root.Type) -> Never {
        do {
            var command = try root.parseAsRoot()
            try command.run()
            exit(0)
        } catch let code as ExitCode {
            // The command has said what went wrong itself.
            exit(code.rawValue)
        } catch {
            if root.exitCode(for: error) == .success { root.exit(withError: error) }
            let message = root.message(for: error).split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
            FileHandle.standardError.write(Data("error: \(message)\n".utf8))
            exit(1)
        }
    }
}
