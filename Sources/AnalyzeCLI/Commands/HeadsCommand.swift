import Analyze
import ArgumentParser
import Foundation
import Shared

struct HeadsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heads",
        abstract: "Prints the top heads of a dump by one score, as a head-set file for later runs.",
        discussion: """
            Scores: tr, tl (per set; without --set, the mean over the clean sets), dla (direct effect on the gold logit), induction (stripe convention, from the probe), fv (function-vector score: the exact CIE of `icl-capture intervene --cie`, averaged over prompts and tasks; with --set, that shuffled-labels set's mean CIE), fv-atp (the same from the dump's gradients, no model run: the first-order CIE of a capture with --grads gold-prob or gold-logprob). The JSON form is what `icl-analyze report --heads-file` and `icl-capture intervene --ablate` read: "heads" is the top set, and "headSets" holds it as "top_<score>" followed by --random-sets random sets of the same size drawn outside it (seeded by --seed).

            Example:
              icl-analyze heads out/demo.h5 --score tr --top 3% --set antonym.clean.k8.qa --json > tr-heads.json
              icl-analyze heads out/demo.h5 --score tr --top 3% --random-sets 20 --json > tr-and-random.json
              icl-analyze heads out/demo.h5 --score fv --top 3% --random-sets 20 --json > fv-and-random.json
              icl-analyze heads out/grads.h5 --score fv-atp --top 3% --json > fv-atp-heads.json
            """)

    @Argument(help: "A dump, or the shards of one capture.") var dumps: [String]
    @Option(help: "tr, tl, dla, induction, fv or fv-atp.") var score: HeadRanking.Score
    @Option(help: "One set's scores (default: the mean over the clean sets).") var set: String?
    @OptionGroup var analysis: AnalysisOptionGroup
    @Flag(help: "Print JSON: {\"heads\": [[layer, head], ...], \"headSets\": [...], ...}.") var json = false
    @Option(help: "Random control sets of the top set's size, drawn outside it, added to the JSON's \"headSets\".") var randomSets = 0
    @Option(help: "Seed of the random sets.") var seed: UInt64 = 0

    func validate() throws {
        if randomSets < 0 { throw ValidationError("--random-sets must not be negative") }
    }

    func run() throws {
        HDF5Watchdog.arm(files: dumps)
        var options = try analysis.options()
        options.seed = seed
        let ranking = try HeadRanking(dump: try ShardedDump(paths: dumps), score: score, set: set, options: options,
                                      randomSets: randomSets)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            print(String(decoding: try encoder.encode(ranking), as: UTF8.self))
        } else {
            for (id, value) in zip(ranking.heads, ranking.values) { print("\(id)\t\(String(format: "%.6g", value))") }
        }
    }
}

extension HeadRanking.Score: ExpressibleByArgument {}
