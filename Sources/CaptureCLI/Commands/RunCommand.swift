import ArgumentParser
import Capture
import Foundation
import Shared

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Captures ICL prompt sets into one self-describing HDF5 dump.",
        discussion: """
            Every prompt of every set (task x variant x shots x template) runs through the model once; z of every head, the residual stream, the final-norm scale, label logits with their direct projections per head and per layer, and the answer position's attention are written as they are produced. A killed capture leaves a readable file; --resume continues it. A finished capture also writes DUMP.h5.sha256 (sha256sum -c checks it). The format: icl-capture schema --markdown.

            With --grads METRIC each prompt also runs backward from METRIC at the answer position (gold-logprob, gold-prob, or label-margin on classification tasks): dM/dz and dM/d resid at the captured positions, and per head z . dM/dz at the answer position and summed over every position (docs/methods.md §16).

            Example:
              icl-capture run --model models/SmolLM2-135M-Instruct.Q4_1.gguf \\
                --tasks antonym,sentiment --shots 4 --n 20 --seed 1 --out out/demo.h5
              icl-capture run --model models/SmolLM2-135M-Instruct.Q4_1.gguf \\
                --tasks sentiment --shots 4 --n 20 --grads label-margin --out out/grads.h5
            """)

    @OptionGroup var model: ModelOptions

    @Option(help: "Comma-separated task names from --tasks-dir, or 'all'.")
    var tasks: String

    @Option(help: ArgumentHelp("Folder of task files (<name>.jsonl).", valueName: "dir"))
    var tasksDir = "tasks"

    @Option(help: "Demonstrations per prompt; a comma-separated list makes one set per value.")
    var shots = "8"

    @Option(help: "Prompts per set.")
    var n = 50

    @Option(help: "Seed of prompt sampling and of the induction probe.")
    var seed: UInt64 = 1

    @Option(help: "Comma-separated variants: clean, shuffled-labels, random-labels, abstract-labels, zero-shot.")
    var variants = "clean,shuffled-labels,zero-shot"

    @Option(help: "Comma-separated template names (default: each task's own).")
    var templates: String?

    @Option(help: "Captured positions: 'answer' (the last prompt token) or 'labels' (also the position before each demonstration's output).")
    var positions: CaptureConfiguration.Positions = .answer

    @Option(help: "Induction probe sequences (0 for none).")
    var probeSequences = 10

    @Option(help: "Random tokens per probe repeat (R).")
    var probeLength = 50

    @Option(help: "Storage of the large activations: f32 or f16 (half the size, for sharing).")
    var dtype: CaptureConfiguration.ActivationType = .f32

    @Option(help: "Full-vocabulary top-k stored at the answer position.")
    var topK = 10

    @Flag(help: "Store every unembedding row, not only those of label and gold tokens.")
    var fullUnembed = false

    @Option(help: ArgumentHelp("Also store gradients of this metric at the answer position: gold-logprob, gold-prob, or label-margin (classification tasks only).", valueName: "metric"))
    var grads: AnswerMetric?

    @OptionGroup var bos: BOSOptions

    @Option(help: ArgumentHelp("This machine's share of the prompts: i/n takes prompts whose index modulo n is i.", valueName: "i/n"))
    var shard = "0/1"

    @Option(help: ArgumentHelp("The dump to write.", valueName: "path"))
    var out: String

    @Flag(help: "Continue an interrupted capture in --out instead of refusing to overwrite it.")
    var resume = false

    @Option(help: "Most tokens per forward pass.")
    var batchTokens = 2048

    func validate() throws {
        if n < 1 { throw ValidationError("--n must be at least 1") }
        if topK < 1 { throw ValidationError("--top-k must be at least 1") }
        if batchTokens < 1 { throw ValidationError("--batch-tokens must be at least 1") }
        if probeSequences < 0 || probeLength < 1 { throw ValidationError("--probe-sequences must be >= 0 and --probe-length >= 1") }
    }

    func run() throws {
        do {
            try capture()
        } catch let error as InputError {
            // One line per error: HDF5's messages can hold line breaks (a ctime() date).
            throw InputError(file: error.file, error.problem.split(whereSeparator: \.isNewline).joined(separator: " "))
        }
    }

    private func capture() throws {
        let shard = try Shard(parsing: self.shard)
        let tasksDirectory = URL(fileURLWithPath: tasksDir)
        let catalog = TaskCatalog(directory: tasksDirectory)
        let taskNames = tasks == "all" ? try catalog.names() : tasks.split(separator: ",").map(String.init)
        let variantList = try variants.split(separator: ",").map { try Self.variant(String($0)) }
        let shotList = try shots.split(separator: ",").map { text -> Int in
            guard let k = Int(text), k >= 0 else { throw ValidationError("--shots takes non-negative integers, not '\(text)'") }
            return k
        }
        let configuration = CaptureConfiguration(
            tasks: taskNames, variants: variantList, shots: shotList, promptsPerSet: n, seed: seed,
            templates: templates?.split(separator: ",").map(String.init) ?? [], positions: positions,
            probeSequences: probeSequences, probeLength: probeLength, activationType: dtype, topK: topK,
            fullUnembedding: fullUnembed, bos: bos.bos, grads: grads)

        let loaded = try model.load()
        let plan = try CapturePlan(configuration: configuration, tasksDirectory: tasksDirectory, model: loaded, shard: shard)
        for warning in plan.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }

        let writer: DumpWriter
        var done: [String: [Bool]] = [:]
        if resume && FileManager.default.fileExists(atPath: out) {
            (writer, done) = try DumpWriter.resume(path: out, plan: plan, configuration: configuration, shard: shard,
                                                   modelSHA256: try ModelFiles.sha256(of: loaded))
        } else {
            if FileManager.default.fileExists(atPath: out) {
                throw InputError(file: out, "exists; pass --resume to continue it, or choose another --out")
            }
            let provenance = DumpProvenance(
                toolVersion: ToolVersion.string, gitCommit: ToolVersion.gitCommit(),
                created: ISO8601DateFormatter().string(from: Date()),
                modelSHA256: try ModelFiles.sha256(of: loaded))
            writer = try DumpWriter.create(path: out, plan: plan, model: loaded, configuration: configuration,
                                           shard: shard, provenance: provenance, definitions: CaptureDefinitions.json)
        }
        let remaining = plan.sets.reduce(0) { $0 + $1.tokens.count - (done[$1.name] ?? []).filter { $0 }.count }
            + plan.probes.reduce(0) { $0 + $1.tokens.count - (done[$1.name] ?? []).filter { $0 }.count }
        var runner = CaptureRunner(model: loaded, plan: plan, writer: writer, configuration: configuration)
        runner.batchTokens = batchTokens
        let summary: CaptureSummary
        do {
            summary = try runner.run(done: done, progress: ProgressReporter(total: remaining, unit: "prompts"))
        } catch let error as InputError {
            // Rows already flagged done are intact (the dump is written crash-safe).
            throw InputError(file: error.file, "\(error.problem); \(out) keeps every finished prompt: rerun with --resume to continue")
        }
        try writer.finish()
        let share = summary.forwardSeconds > 0 ? 100 * summary.writeSeconds / summary.forwardSeconds : 0
        print(String(format: "%@: %d sets, %d probe sets; captured %d prompts (%d tokens): forward %.1f s, writing %.2f s (%.1f%% of forward)",
                     out, plan.sets.count, plan.probes.count, summary.prompts, summary.tokens,
                     summary.forwardSeconds, summary.writeSeconds, share))
    }

    static func variant(_ text: String) throws -> PromptVariant {
        let names: [String: PromptVariant] = ["clean": .clean, "shuffled-labels": .shuffledLabels,
                                              "random-labels": .randomLabels, "abstract-labels": .abstractLabels,
                                              "zero-shot": .zeroShot]
        guard let variant = names[text] else {
            throw ValidationError("unknown variant '\(text)' (known: \(names.keys.sorted().joined(separator: ", ")))")
        }
        return variant
    }
}

extension CaptureConfiguration.Positions: ExpressibleByArgument {}
extension CaptureConfiguration.ActivationType: ExpressibleByArgument {}
extension AnswerMetric: ExpressibleByArgument {}
