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
}
