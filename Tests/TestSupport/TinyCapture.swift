import Capture
import Foundation
import Shared

/// Small real captures with a tiny fixture model (tiny-llama3 unless named), through the
/// library (no process): for tests of what reads dumps.
public enum TinyCapture {
    public static func configuration(dtype: CaptureConfiguration.ActivationType = .f32, seed: UInt64 = 5) -> CaptureConfiguration {
        CaptureConfiguration(tasks: ["antonym", "sentiment"], variants: [.clean, .zeroShot], shots: [2],
                             promptsPerSet: 4, seed: seed, probeSequences: 2, probeLength: 8, activationType: dtype)
    }

    /// Writes a dump of `configuration`'s prompts in `shard` to `path` (and its checksum file).
    public static func write(to path: String, configuration: CaptureConfiguration = configuration(),
                             shard: Shard = .whole, modelSHA256: String = "0", model name: String = "tiny-llama3") throws {
        let model = try ModelLoader.load(path: Fixtures.url("models/\(name)").path)
        let tasks = Fixtures.repositoryRoot.appendingPathComponent("tasks")
        let plan = try CapturePlan(configuration: configuration, tasksDirectory: tasks, model: model, shard: shard)
        let writer = try DumpWriter.create(
            path: path, plan: plan, model: model, configuration: configuration, shard: shard,
            provenance: DumpProvenance(toolVersion: "test", gitCommit: "test", created: "now", modelSHA256: modelSHA256),
            definitions: CaptureDefinitions.json)
        _ = try CaptureRunner(model: model, plan: plan, writer: writer, configuration: configuration).run(done: [:], progress: nil)
        try writer.finish()
    }
}
