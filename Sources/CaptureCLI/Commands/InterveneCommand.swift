import ArgumentParser
import Capture
import Foundation
import Shared

struct InterveneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intervene",
        abstract: "Reruns a dump's prompts through the model with heads ablated or patched, and adds the results to the dump.",
        discussion: """
            --ablate: every head set of the head-set files (icl-analyze heads --json, e.g. the top set and 20 random sets) is ablated on every prompt of the dump, its z set to zero (--mode zero) or to the clean set's mean z at the answer position (--mode mean; the clean set of the same task, shots and template, leaving the prompt out on the clean set itself), at the answer position or at every position (--at). Per prompt and head set (and "none", the model unchanged): full-vocabulary gold log-probability, argmax, accuracy, label-set membership and label logits.

            --cie: the exact causal indirect effect of every head on every shuffled-labels set with a clean partner: P(gold) with the head's z at the last position replaced by the clean mean, minus P(gold) on the corrupted prompt. The prefix runs once; each head's run recomputes the last token from its layer on.

            The results go into the dump itself, under /interventions/NAME (icl-capture schema --markdown), written crash-safe like the capture: a killed run leaves the dump readable, and the same command continues it. The model must be the dump's (same sha256); bad input is refused before the dump is opened for writing.

            Examples:
              icl-analyze heads out/demo.h5 --score tr --random-sets 20 --json > tr.json
              icl-capture intervene --model models/SmolLM2-135M-Instruct.Q4_1.gguf --dump out/demo.h5 \\
                --ablate tr.json --mode mean --at answer
              icl-capture intervene --model models/SmolLM2-135M-Instruct.Q4_1.gguf --dump out/demo.h5 --cie
            """)

    @OptionGroup var model: ModelOptions

    @Option(help: ArgumentHelp("The dump whose prompts are rerun and which receives the results.", valueName: "path"))
    var dump: String

    @Option(help: ArgumentHelp("A head-set file to ablate (repeat for several).", valueName: "path"))
    var ablate: [String] = []

    @Option(help: "Ablation: zero, or mean (the clean set's mean z at the answer position).")
    var mode: AblationMode = .zero

    @Option(help: "Ablation positions: answer (the last prompt token) or all.")
    var at: AblationPositions = .answer

    @Flag(help: "The exact CIE of every head on the shuffled-labels sets.")
    var cie = false

    @Option(help: "Comma-separated prompt sets (default: every set the intervention applies to).")
    var sets: String?

    @Option(help: "Name of the group under /interventions (default: made from the options).")
    var name: String?

    @Option(help: "Most prompt tokens per forward pass.")
    var batchTokens = 2048

    func validate() throws {
        if ablate.isEmpty == !cie { throw ValidationError("give either --ablate HEADS.json (one or more) or --cie") }
        if batchTokens < 1 { throw ValidationError("--batch-tokens must be at least 1") }
    }

    func run() throws {
        do {
            try intervene()
        } catch let error as InputError {
            throw InputError(file: error.file, error.problem.split(whereSeparator: \.isNewline).joined(separator: " "))
        }
    }

    private func intervene() throws {
        // The dump must exist before the model is loaded: a typo should not cost a load.
        guard FileManager.default.fileExists(atPath: dump) else { throw InputError(file: dump, "does not exist") }
        let loaded = try model.load()
        var request = InterventionRequest(
            dump: dump, action: cie ? .cie : .ablate(headSetFiles: ablate, mode: mode, positions: at),
            sets: sets?.split(separator: ",").map(String.init), name: name)
        request.batchTokens = batchTokens
        let provenance = [
            "created": ISO8601DateFormatter().string(from: Date()), "tool_version": ToolVersion.string,
            "git_commit": ToolVersion.gitCommit(), "model_path": loaded.path,
        ]
        let summary = try Intervention.run(request, model: loaded, modelSHA256: try ModelFiles.sha256(of: loaded),
                                           provenance: provenance) { ProgressReporter(total: $0, unit: "prompts") }
        for set in summary.skipped { print("\(set): skipped (no clean set of the same task, shots and template for a mean)") }
        for line in summary.lines { print(line) }
        print(String(format: "%@%@: %d prompts in %.1f s", dump, summary.group, summary.prompts, summary.seconds))
    }
}

extension AblationMode: ExpressibleByArgument {}
extension AblationPositions: ExpressibleByArgument {}
