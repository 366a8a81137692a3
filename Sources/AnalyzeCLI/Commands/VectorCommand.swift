import Analyze
import ArgumentParser
import Foundation
import Shared

struct VectorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vector",
        abstract: "Exports task vectors (the sum of a head set's mean outputs) for icl-capture intervene --steer.",
        discussion: """
            For each head set of the head-set file (or the one --name picks): v = sum over its heads of the head's mean write into the residual stream at the answer position, mean over the done prompts of --set (z_h @ W_O[l, h], no bias). The JSON records the model (sha256, d_model, layers, heads), the set, its prompts and their queries (so that steering can be evaluated on other queries), the head-set file with its sha256, and each vector's family: tr or tl (the file's top set by that score), random (a random control set) or other. The report compares steering with TR and TL vectors against the random vectors' spread per layer: export the TR vectors with 20 random sets and the TL vector, and steer with both files (last example).

            Example:
              icl-analyze heads out/demo.h5 --score tr --set antonym.clean.k8.qa --random-sets 20 --json > tr.json
              icl-analyze vector out/demo.h5 --set antonym.clean.k8.qa --heads tr.json --out tr-vectors.json
              icl-analyze vector out/demo.h5 --set antonym.clean.k8.qa --heads tr.json --name top_tr --out tr-vector.json
              icl-analyze heads out/demo.h5 --score tl --set antonym.clean.k8.qa --json > tl.json
              icl-analyze vector out/demo.h5 --set antonym.clean.k8.qa --heads tl.json --out tl-vectors.json
              icl-capture intervene --model models/SmolLM2-135M-Instruct.Q4_1.gguf --dump out/demo.h5 --steer tr-vectors.json --steer tl-vectors.json --layer all
            """)

    @Argument(help: "A dump, or the shards of one capture.") var dumps: [String]
    @Option(help: "The prompt set whose prompts the means are taken over (usually a clean set).") var set: String
    @Option(help: ArgumentHelp("A head-set file (icl-analyze heads --json).", valueName: "path")) var heads: String
    @Option(help: "Only the head set of this name (default: every set of the file).") var name: String?
    @Option(help: ArgumentHelp("The task-vector file to write.", valueName: "path")) var out: String
    @Option(help: "Compute threads (default: all cores).") var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        HDF5Watchdog.arm(files: dumps)
        if let threads { ComputeThreads.set(threads) }
        let dump = try ShardedDump(paths: dumps)
        var headSets = try HeadSetFile.read(path: heads, layers: dump.layers, heads: dump.files[0].size("head"))
        if let name {
            guard let chosen = headSets.first(where: { $0.name == name }) else {
                throw InputError(file: heads, "has no head set \(name) (sets: \(headSets.map(\.name).joined(separator: ", ")))")
            }
            headSets = [chosen]
        }
        let file = try TaskVector.make(dump: dump, set: set, headSets: headSets, headsFile: heads, options: AnalysisOptions())
        try file.write(to: out)
        for vector in file.vectors {
            print("\(vector.name)\t\(vector.resolvedFamily)\t\(vector.heads.count) heads\tnorm \(String(format: "%.6g", vector.norm))")
        }
        print("\(out): \(file.vectors.count) vectors of d_model \(file.model.dModel) over \(file.source.promptIndex.count) prompts of \(set)")
    }
}
