import Foundation

/// Locates committed test fixtures (Tests/Fixtures) and the downloaded default model
/// (models/), relative to this source file so tests run from any working directory.
public enum Fixtures {
    /// Tests/Fixtures
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()   // TestSupport
        .deletingLastPathComponent()   // Tests
        .appendingPathComponent("Fixtures")

    /// The repository root.
    public static let repositoryRoot: URL = root
        .deletingLastPathComponent()
        .deletingLastPathComponent()

    public static func url(_ relativePath: String) -> URL {
        root.appendingPathComponent(relativePath)
    }

    /// The default model, placed by scripts/setup-model; nil when it is not there.
    public static var defaultModel: URL? {
        let url = repositoryRoot.appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf")
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    /// Gemma 3 270M (Q4_K_M GGUF), placed by scripts/setup-model; nil when it is not there.
    public static var gemmaModel: URL? {
        let url = repositoryRoot.appendingPathComponent("models/gemma-3-270m-q4_k_m.gguf")
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }
}

/// Runs the package's executables (built next to the test bundle) as a user would.
public enum CommandLineTool {
    public struct Result {
        public let status: Int32
        public let standardOutput: String
        public let standardError: String
    }

    /// The build products folder: the test runner's own folder (.build/<configuration>).
    public static let productsDirectory = URL(fileURLWithPath: CommandLine.arguments[0])
        .standardizedFileURL.deletingLastPathComponent()

    public static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = productsDirectory.appendingPathComponent(executable)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let output = Pipe(), error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        let errData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus,
                      standardOutput: String(decoding: outData, as: UTF8.self),
                      standardError: String(decoding: errData, as: UTF8.self))
    }
}
