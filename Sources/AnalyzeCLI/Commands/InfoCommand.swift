import Analyze
import ArgumentParser
import Foundation
import Shared

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Checks one dump, or the shards of one capture, and summarises each prompt set.",
        discussion: """
            Shards must come from the same model and capture options, share their count and hold each prompt once; missing shards and unfinished rows are reported. Accuracy is full-vocabulary top-1 against the gold answer's first token, the label-set ratio the share of top-1 predictions inside the set's labels.

            Example:
              icl-analyze info out/demo.h5
              icl-analyze info out/shard-0.h5 out/shard-1.h5 --json
            """)

    @Argument(help: "Dump files (several: the shards of one capture).") var dumps: [String]
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        HDF5Watchdog.arm(files: dumps)
        let dump = try ShardedDump(paths: dumps)
        let summaries = try SetSummary.summarize(dump)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            print(String(decoding: try encoder.encode(summaries), as: UTF8.self))
            return
        }
        if !dump.missingShards.isEmpty {
            print("partial capture: shards \(dump.missingShards.joined(separator: ", ")) missing")
        }
        print("set".padding(toLength: 44, withPad: " ", startingAt: 0) + "  done/prompts  accuracy  label-set  gold logprob")
        for s in summaries {
            let ratio = s.labelSetRatio.map { String(format: "%9.2f", $0) } ?? "        -"
            print(s.name.padding(toLength: 44, withPad: " ", startingAt: 0)
                  + String(format: "  %4d/%-7d  %8.2f  %@  %12.2f", s.done, s.prompts, s.accuracy, ratio, s.meanGoldLogprob))
            if dump.files.count > 1 && s.done < s.prompts {
                print("  unfinished: " + zip(dump.files, s.donePerFile).map { "\($0.shard) \($1) done" }.joined(separator: ", "))
            }
        }
    }
}
