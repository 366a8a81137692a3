import ArgumentParser
import CLISupport
import Capture
import Foundation
import Shared

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Captures ICL prompt sets into one self-describing HDF5 dump.",
        discussion: """
            Every prompt of every set (task x variant x shots x template) runs through the model once; z of every head, the residual stream, the final-norm scale, label logits with their direct projections per head and per layer, and the answer position's attention are written as they are produced. A killed capture leaves a readable file; --resume continues it. A finished capture also writes DUMP.h5.sha256 (sha256sum -c checks it). The format: icl-capture schema --markdown.

            With --grads METRIC each prompt also runs backward from METRIC at the answer position (gold-logprob, gold-prob, or label-margin on classification tasks): dM/dz and dM/d resid at the captured positions, and per head z . dM/dz at the answer position and summed over every position (docs/methods.md §19).

            Example:
              icl-capture run --model models/SmolLM2-135M-Instruct.Q4_1.gguf \\
                --tasks antonym,sentiment --shots 4 --n 20 --seed 1 --out out/demo.h5
              icl-capture run --model models/SmolLM2-135M-Instruct.Q4_1.gguf \\
                --tasks sentiment --shots 4 --n 20 --grads label-margin --out out/grads.h5
            """)

    @OptionGroup var model: ModelOptions

    @OptionGroup var taskOptions: TaskOptions

    @Option(parsing: .unconditional, help: "Demonstrations per prompt; a comma-separated list makes one set per value.")
    var shots = "8"

    @Option(parsing: .unconditional, help: "Prompts per set (at most \(Self.maxPromptsPerSet)).")
    var n = 50

    @Option(parsing: .unconditional, help: "Seed of prompt sampling and of the induction probe.")
    var seed: UInt64 = 1

    @Option(help: "Comma-separated variants: clean, shuffled-labels, random-labels, abstract-labels, zero-shot (or as dumps spell them: shuffled_labels, ...).")
    var variants = "clean,shuffled-labels,zero-shot"

    @Option(help: "Comma-separated template names (default: each task's own).")
    var templates: String?

    @Option(help: "Captured positions: 'answer' (the last prompt token) or 'labels' (also the position before each demonstration's output).")
    var positions: CaptureConfiguration.Positions = .answer

    @Option(parsing: .unconditional, help: "Induction probe sequences (0 for none).")
    var probeSequences = 10

    @Option(parsing: .unconditional, help: "Random tokens per probe repeat (R); at most the widest sliding window when every layer has one.")
    var probeLength = 50

    @Option(help: "Storage of the large activations: f32 or f16 (half the size, for sharing).")
    var dtype: CaptureConfiguration.ActivationType = .f32

    @Option(parsing: .unconditional, help: "Full-vocabulary top-k stored at the answer position.")
    var topK = 10

    @Flag(help: "Store every unembedding row, not only those of label and gold tokens.")
    var fullUnembed = false

    @Option(help: ArgumentHelp("Also store gradients of this metric at the answer position: gold-logprob, gold-prob, or label-margin (classification tasks only).", valueName: "metric"))
    var grads: AnswerMetric?

    @OptionGroup var bos: BOSOptions

    @Option(parsing: .unconditional, help: ArgumentHelp("This machine's share of the prompts: i/n takes prompts whose index modulo n is i.", valueName: "i/n"))
    var shard = "0/1"

    @Option(help: ArgumentHelp("The dump to write.", valueName: "path"))
    var out: String

    @Flag(help: "Continue an interrupted capture in --out instead of refusing to overwrite it.")
    var resume = false

    @Option(parsing: .unconditional, help: "Most tokens per forward pass (at most \(Self.maxBatchTokens)).")
    var batchTokens = 2048

    /// Bounds that keep the prompt plan, held in memory whole, to a size a machine can hold.
    static let maxPromptsPerSet = 100_000
    static let maxBatchTokens = 1 << 20

    func validate() throws {
        if n < 1 || n > Self.maxPromptsPerSet { throw ValidationError("--n \(n): must be in 1...\(Self.maxPromptsPerSet) (split a larger capture with --shard)") }
        if topK < 1 { throw ValidationError("--top-k \(topK): must be at least 1") }
        if batchTokens < 1 || batchTokens > Self.maxBatchTokens { throw ValidationError("--batch-tokens \(batchTokens): must be in 1...\(Self.maxBatchTokens)") }
        if probeSequences < 0 || probeSequences > Self.maxPromptsPerSet { throw ValidationError("--probe-sequences \(probeSequences): must be in 0...\(Self.maxPromptsPerSet)") }
        if probeLength < 1 { throw ValidationError("--probe-length \(probeLength): must be at least 1") }
        _ = try variantList()
        _ = try shotList()
        _ = try templateList()
        let shard = try Shard(parsing: self.shard)
        if shard.count > n { throw ValidationError("--shard \(shard): more shards than prompts per set (--n \(n))") }
        try OutputPath.validateFile(out, option: "--out", ifExists: resume ? nil : "exists; pass --resume to continue it, or choose another --out")
    }

    private func variantList() throws -> [PromptVariant] {
        try Self.list(variants, option: "--variants").map { text in
            guard let variant = PromptVariant(argument: text) else {
                let known = PromptVariant.allCases.map(\.argumentName).joined(separator: ", ")
                throw ValidationError("--variants: unknown variant '\(text)' (known: \(known))")
            }
            return variant
        }
    }

    private func shotList() throws -> [Int] {
        try Self.list(shots, option: "--shots").map { text in
            guard let k = Int(text), k >= 0 else { throw ValidationError("--shots takes non-negative integers, not '\(text)'") }
            return k
        }
    }

    private func templateList() throws -> [String] {
        guard let templates else { return [] }
        return try Self.list(templates, option: "--templates")
    }

    /// The entries of a comma-separated option; an empty entry is an error.
    private static func list(_ text: String, option: String) throws -> [String] {
        let entries = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        if entries.contains("") { throw ValidationError("\(option) \"\(text)\" has an empty entry") }
        return entries
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
        let (taskNames, catalog) = try taskOptions.resolve()
        let configuration = CaptureConfiguration(
            tasks: taskNames, variants: try variantList(), shots: try shotList(), promptsPerSet: n, seed: seed,
            templates: try templateList(), positions: positions,
            probeSequences: probeSequences, probeLength: probeLength, activationType: dtype, topK: topK,
            fullUnembedding: fullUnembed, bos: bos.bos, grads: grads)
        let tasks = try taskNames.map(catalog.load)
        try CaptureMemory.checkPlan(configuration: configuration, tasks: tasks, shard: shard)
        try CapturePlan.checkBuildable(configuration: configuration, tasks: tasks)

        let loaded = try model.load()
        try checkAgainst(loaded.config)
        let plan = try CapturePlan(configuration: configuration, catalog: catalog, model: loaded, shard: shard)
        try CaptureMemory.checkForwardPasses(plan: plan, config: loaded.config, batchTokens: batchTokens)
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
                toolVersion: ToolVersion.string, gitCommit: BuildCommit.value,
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

    /// The options the model bounds, checked before anything is built from them.
    private func checkAgainst(_ config: ModelConfig) throws {
        if topK > config.vocabularySize {
            throw InputError(file: model.model, "--top-k \(topK) is more than the model's vocabulary of \(config.vocabularySize) tokens")
        }
        if probeSequences > 0 && probeLength > (config.contextLength - 1) / 2 {
            throw InputError(file: model.model, "--probe-length \(probeLength): a probe of 2 x \(probeLength) tokens (and BOS) exceeds the model's context of \(config.contextLength); at most \((config.contextLength - 1) / 2)")
        }
        // An induction target lies probeLength - 1 keys back: a sliding window on every layer
        // must reach it, or every head's induction score is 0.
        let windows = (0..<config.layerCount).map { config.attentionWindow(layer: $0) }
        if probeSequences > 0, !windows.contains(where: { $0 == nil }), let widest = windows.compactMap({ $0 }).max(),
           probeLength > widest {
            throw InputError(file: model.model, "--probe-length \(probeLength): every layer of this model attends to at most its last \(widest) tokens (sliding window), so no head sees the token \(probeLength - 1) back that induction scores measure; at most \(widest)")
        }
    }
}

extension CaptureConfiguration.Positions: ExpressibleByArgument {}
extension CaptureConfiguration.ActivationType: ExpressibleByArgument {}
extension AnswerMetric: ExpressibleByArgument {}
