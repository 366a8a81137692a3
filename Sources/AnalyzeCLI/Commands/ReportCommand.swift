import Analyze
import ArgumentParser
import Foundation
import Shared

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Scores every head of one or more dumps and writes tables, figures and index.html.",
        discussion: """
            Files of one model and capture options are read as the shards of one capture; dumps of other models are analysed side by side and compared by layer depth. Writes heads.csv, sets.csv, variants.csv, geometry.csv, correlations.csv, ablation.csv, components.csv, depth.csv, summary.json, SVG figures and index.html into --out (replacing an earlier report there). With --per-prompt, also per_prompt/SET.csv: every prompt's value of each head's scores, one row per prompt x layer x head. Definitions: docs/methods.md.

            Example:
              icl-analyze report out/demo.h5 --out out/report
              icl-analyze report s0.h5 s1.h5 --out out/report --top 5% --heads-file my-heads.json
              icl-analyze report out/demo.h5 --out out/report --per-prompt
            """)

    @Argument(help: "Dump files.") var dumps: [String]
    @Option(help: "The report folder.") var out: String
    @OptionGroup var analysis: AnalysisOptionGroup
    @Option(help: "Random head sets per set for the ablation baseline.") var randomSets = 20
    @Option(help: "Bootstrap replicates for score intervals and top-set stability.") var bootstrap = 200
    @Option(help: "Seed of the random head sets and the bootstrap.") var seed: UInt64 = 0
    @Option(name: .customLong("heads-file"), help: "A head-set file (icl-analyze heads --json) to ablate too; repeatable.")
    var headsFiles: [String] = []
    @Flag(name: .customLong("per-prompt"),
          help: "Also write per_prompt/SET.csv, the per-prompt values behind heads.csv's means: about 165 bytes per prompt and head, so 1.1 GB for the 10 GB benchmark dump (18 sets x 1401 prompts x 270 heads).")
    var perPrompt = false

    func validate() throws {
        guard !out.isEmpty else { throw ValidationError("--out must name a folder") }
        guard randomSets >= 0, randomSets <= 1000 else { throw ValidationError("--random-sets must be in 0...1000") }
        guard bootstrap >= 1, bootstrap <= 100_000 else { throw ValidationError("--bootstrap must be in 1...100000") }
    }

    func run() throws {
        HDF5Watchdog.arm(files: dumps)
        var options = try analysis.options()
        options.randomSets = randomSets
        options.bootstrapReplicates = bootstrap
        options.seed = seed
        options.headSetFiles = headsFiles
        let dumps = try CaptureGroups.open(self.dumps)
        let progress = ProgressReporter(total: dumps.reduce(0) { $0 + $1.setNames.count }, unit: "sets")
        let analyses = try dumps.map { try DumpAnalysis(dump: $0, options: options, progress: progress) }
        progress.finish()
        try ReportWriter.write(analyses, options: options, to: out, perPrompt: perPrompt)
        for analysis in analyses {
            print("\(analysis.dump.displayName): \(analysis.modelName), \(analysis.layers) layers x \(analysis.heads) heads; top \(analysis.topCount) heads per score")
            if !analysis.dump.missingShards.isEmpty {
                print("  partial capture: shards \(analysis.dump.missingShards.joined(separator: ", ")) missing")
            }
            func pad(_ text: String, _ width: Int) -> String {
                text.count >= width ? text + "  " : text.padding(toLength: width, withPad: " ", startingAt: 0)
            }
            print(pad("set", 40) + pad("acc", 6) + pad("top TR heads (score)", 38) + "top TL heads (score)")
            for set in analysis.sets {
                let tr = set.scores.meanTR, tl = set.scores.meanTL
                func list(_ heads: [HeadID], _ values: [Double]) -> String {
                    let ranked = heads.sorted { values[$0.layer * analysis.heads + $0.head] > values[$1.layer * analysis.heads + $1.head] }
                    return ranked.prefix(3).map { "\($0) (\(String(format: "%.2f", values[$0.layer * analysis.heads + $0.head])))" }.joined(separator: " ")
                }
                print(pad(set.info.name, 40) + pad(String(format: "%.2f", set.behaviour.accuracy.value), 6)
                      + pad(list(set.topTR.heads, tr), 38) + list(set.topTL.heads, tl))
            }
            if let top = analysis.topInduction, let induction = analysis.induction {
                print("induction (stripe): " + top.heads.sorted { induction.stripe[$0.layer * analysis.heads + $0.head] > induction.stripe[$1.layer * analysis.heads + $1.head] }
                    .prefix(5).map { "\($0) (\(String(format: "%.2f", induction.stripe[$0.layer * analysis.heads + $0.head])))" }.joined(separator: " "))
            }
        }
        print("report: \(out)/index.html")
    }
}
