import ArgumentParser
import CLISupport
import Capture
import Foundation
import Shared

struct InterveneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intervene",
        abstract: "Reruns a dump's prompts through the model with heads ablated or patched or a task vector added, and adds the results to the dump.",
        discussion: """
            --ablate: every head set of the head-set files (icl-analyze heads --json, e.g. the top set and 20 random sets) is ablated on every prompt of the dump, its z set to zero (--mode zero) or to the clean set's mean z at the answer position (--mode mean; the clean set of the same task, shots and template, leaving the prompt out on the clean set itself), at the answer position or at every position (--at). Per prompt and head set (and "none", the model unchanged): full-vocabulary gold log-probability, argmax, accuracy, label-set membership and label logits.

            --cie: the exact causal indirect effect of every head on every shuffled-labels set with a clean partner: P(gold) with the head's z at the last position replaced by the clean mean, minus P(gold) on the corrupted prompt. The prefix runs once; each head's run recomputes the last token from its layer on.

            --steer: every vector of the task-vector files (icl-analyze vector) times --scale, added to resid_pre of the last prompt token at --layer (default L/2; "all" or a list for a sweep), on the zero-shot sets of the vectors' task. Per prompt, vector and layer (and "none", no vector): the same metrics, and whether the prompt's query is outside the prompts the vector was computed from. Vectors from another model or of another width are refused.

            --fv-vs-induction: Yin & Steinhardt's comparison. FV heads are ranked by AIE (the mean CIE over prompts and sets of the dump's --cie run), induction heads by --induction (icl-analyze heads --score induction --top 100% --json). For each k of --percents: the top-k% FV heads, the top-k% induction heads, each again with the other mechanism's top --exclusion% (rounded up) removed first, and --random-sets random sets of the same size (drawn outside that k's FV and induction sets, and its TR and TL sets when --tr and --tl rankings add those families); each mean-ablated at the last prompt token and every generated token of a greedy --new-tokens continuation, on the clean few-shot sets (each prompt left out of its mean). Per prompt and head set: the metrics of the first token, the continuation and its token F1 against the gold answer.

            The results go into the dump itself, under /interventions/NAME (icl-capture schema --markdown), written crash-safe like the capture: a killed run leaves the dump readable, and the same command continues it. The model must be the dump's (same sha256); bad input is refused before the dump is opened for writing.

            Examples:
              icl-analyze heads out/demo.h5 --score tr --random-sets 20 --json > tr.json
              icl-capture intervene --model models/SmolLM2-135M-Instruct.Q4_1.gguf --dump out/demo.h5 \\
                --ablate tr.json --mode mean --at answer
              icl-capture intervene --model models/SmolLM2-135M-Instruct.Q4_1.gguf --dump out/demo.h5 --cie
              icl-analyze vector out/demo.h5 --set antonym.clean.k8.qa --heads tr.json --out tr-vectors.json
              icl-capture intervene --model models/SmolLM2-135M-Instruct.Q4_1.gguf --dump out/demo.h5 \\
                --steer tr-vectors.json --layer all --scale 1
              icl-analyze heads out/demo.h5 --score induction --top 100% --json > induction.json
              icl-capture intervene --model models/SmolLM2-135M-Instruct.Q4_1.gguf --dump out/demo.h5 \\
                --fv-vs-induction --induction induction.json
              icl-analyze heads out/demo.h5 --score tr --top 100% --json > tr-ranking.json
              icl-analyze heads out/demo.h5 --score tl --top 100% --json > tl-ranking.json
              icl-capture intervene --model models/SmolLM2-135M-Instruct.Q4_1.gguf --dump out/demo.h5 \\
                --fv-vs-induction --induction induction.json --tr tr-ranking.json --tl tl-ranking.json --name fv_induction_tr_tl
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

    @Option(help: ArgumentHelp("A task-vector file to steer with (repeat for several).", valueName: "path"))
    var steer: [String] = []

    @Option(help: "Steering layers: a layer, a comma-separated list, middle (L/2, the default) or all.")
    var layer: String = "middle"

    @Option(help: "Steering: the factor the vectors are multiplied by.")
    var scale: Float = 1

    @Flag(help: "Mean ablation of top FV heads vs top induction heads during greedy generation (Yin & Steinhardt).")
    var fvVsInduction = false

    @Option(help: ArgumentHelp("FV vs induction: every head ranked by induction score (icl-analyze heads --score induction --top 100% --json).", valueName: "path"))
    var induction: String?

    @Option(help: ArgumentHelp("FV vs induction: also ablate the top-k% TR heads of this ranking (icl-analyze heads --score tr --top 100% --json: the mean over the clean sets, or --set S).", valueName: "path"))
    var tr: String?

    @Option(help: ArgumentHelp("FV vs induction: also ablate the top-k% TL heads of this ranking (icl-analyze heads --score tl --top 100% --json).", valueName: "path"))
    var tl: String?

    @Option(help: "FV vs induction: the CIE run under /interventions to rank FV heads by (default: the dump's only one).")
    var fvFrom: String?

    @Option(help: "FV vs induction: comma-separated k of the top-k% sets.")
    var percents: String = "1,3,5,10,20"

    @Option(help: "FV vs induction: the other mechanism's top share (%) removed in the exclusion variant, rounded up.")
    var exclusion: Double = 2

    @Option(help: "FV vs induction: random sets per k.")
    var randomSets = 20

    @Option(help: "FV vs induction: seed of the random sets.")
    var seed: UInt64 = 0

    @Option(help: "FV vs induction: greedy tokens generated per prompt and head set.")
    var newTokens = 5

    @Option(help: "Comma-separated prompt sets (default: every set the intervention applies to).")
    var sets: String?

    @Option(help: "Name of the group under /interventions (default: made from the options).")
    var name: String?

    @Option(help: "Most prompt tokens per forward pass.")
    var batchTokens = 2048

    func validate() throws {
        let actions = [!ablate.isEmpty, cie, !steer.isEmpty, fvVsInduction].filter { $0 }.count
        if actions != 1 {
            throw ValidationError("give one of --ablate HEADS.json (one or more), --cie, --steer VECTOR.json (one or more) or --fv-vs-induction")
        }
        if batchTokens < 1 { throw ValidationError("--batch-tokens must be at least 1") }
        if !scale.isFinite { throw ValidationError("--scale must be a finite number") }
        if fvVsInduction {
            if induction == nil { throw ValidationError("--fv-vs-induction needs --induction RANKING.json (icl-analyze heads --score induction --top 100% --json)") }
        } else if tr != nil || tl != nil {
            throw ValidationError("--tr and --tl add TR and TL head sets to --fv-vs-induction; give them with it")
        }
        if fvVsInduction {
            guard let values = parsedPercents(), !values.isEmpty, values.allSatisfy({ $0 > 0 && $0 <= 100 }), Set(values).count == values.count else {
                throw ValidationError("--percents must be distinct numbers in (0, 100], e.g. 1,3,5,10,20")
            }
            if !(exclusion >= 0 && exclusion < 100) { throw ValidationError("--exclusion must be in [0, 100)") }
            if randomSets < 0 { throw ValidationError("--random-sets must not be negative") }
            if newTokens < 1 { throw ValidationError("--new-tokens must be at least 1") }
        }
    }

    private func parsedPercents() -> [Double]? {
        let values = percents.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        return values.allSatisfy { $0 != nil } ? values.map { $0! } : nil
    }

    private func action() throws -> InterventionRequest.Action {
        if cie { return .cie }
        if !steer.isEmpty { return .steer(vectorFiles: steer, layers: try SteeringLayers(parsing: layer), scale: scale) }
        if fvVsInduction {
            var comparison = FVInductionRequest(cieRun: fvFrom, inductionFile: induction!)
            comparison.trFile = tr
            comparison.tlFile = tl
            comparison.percents = parsedPercents()!
            comparison.exclusionPercent = exclusion
            comparison.randomSets = randomSets
            comparison.seed = seed
            comparison.newTokens = newTokens
            return .fvVsInduction(comparison)
        }
        return .ablate(headSetFiles: ablate, mode: mode, positions: at)
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
        let action = try action()
        let loaded = try model.load()
        var request = InterventionRequest(
            dump: dump, action: action,
            sets: sets?.split(separator: ",").map(String.init), name: name)
        request.batchTokens = batchTokens
        let provenance = [
            "created": ISO8601DateFormatter().string(from: Date()), "tool_version": ToolVersion.string,
            "git_commit": BuildCommit.value, "model_path": loaded.path,
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
