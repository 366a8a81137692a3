import Foundation
import Shared

/// Which layers' resid_pre receive a steering vector.
public enum SteeringLayers: Sendable, Equatable {
    /// L // 2 (Yang, Cho & Inoue's default).
    case middle
    /// Every layer 0..<L (a sweep).
    case all
    case list([Int])

    /// Parses "all", "middle" or a comma-separated list of layers.
    public init(parsing text: String) throws {
        switch text {
        case "all": self = .all
        case "middle": self = .middle
        default:
            let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else {
                throw InputError(file: nil, "--layer \(text): give a layer, a comma-separated list of layers, \"middle\" or \"all\"")
            }
            self = .list(parts.map { $0! })
        }
    }

    func resolve(layers: Int, dump: String) throws -> [Int] {
        switch self {
        case .middle: return [layers / 2]
        case .all: return Array(0..<layers)
        case .list(let list):
            for layer in list where !(0..<layers).contains(layer) {
                throw InputError(file: dump, "--layer \(layer): the model has layers 0..<\(layers)")
            }
            guard Set(list).count == list.count else { throw InputError(file: nil, "--layer names a layer twice") }
            return list
        }
    }

    var label: String {
        switch self {
        case .middle: return "middle"
        case .all: return "all"
        case .list(let list): return "L" + list.map(String.init).joined(separator: "-")
        }
    }
}

extension Intervention {
    /// `--steer`: every vector of the files, scaled, added to resid_pre of the last prompt token
    /// at each layer, on the zero-shot sets of the vectors' task (or `request.sets`).
    static func steer(_ request: InterventionRequest, files: [String], layers layerSpec: SteeringLayers, scale: Float,
                      model: LoadedModel, dump: DumpPrompts, candidates: [DumpPromptSet], provenance: [String: String],
                      progress: (Int) -> ProgressReporter?) throws -> InterventionSummary {
        let d = dump.modelWidth
        var vectors = [SteeringVector(name: "none", family: "none", values: [Float](repeating: 0, count: d), file: "", scoringQueries: [])]
        var entries: [InterventionOptions.HeadSetFileEntry] = []
        var tasks: Set<String> = []
        for path in files {
            let file = try TaskVectorFile.read(path: path)
            guard file.model.dModel == d else {
                throw InputError(file: path, "holds vectors of width \(file.model.dModel), but \(dump.path) has d_model \(d)")
            }
            guard file.model.sha256 == dump.modelSHA256 else {
                throw InputError(file: path, "was made from another model (sha256 \(file.model.sha256.prefix(12))...), not the dump's (sha256 \(dump.modelSHA256.prefix(12))...)")
            }
            let queries = Set(file.source.queries)
            for vector in file.vectors {
                guard !vectors.contains(where: { $0.name == vector.name }) else {
                    throw InputError(file: path, "names vector \(vector.name), which an earlier file (or \"none\") already names")
                }
                vectors.append(SteeringVector(name: vector.name, family: vector.resolvedFamily, values: vector.values.map { $0 * scale }, file: path, scoringQueries: queries))
            }
            tasks.insert(file.source.task)
            entries.append(.init(path: path, sha256: try SHA256.hexDigest(ofFile: path)))
        }
        guard tasks.count == 1, let task = tasks.first else {
            throw InputError(file: files.last, "the vector files come from tasks \(tasks.sorted().joined(separator: ", ")); steer one task per run")
        }
        let layers = try layerSpec.resolve(layers: dump.layers, dump: dump.path)
        let sets = request.sets == nil
            ? candidates.filter { $0.task == task && $0.variant == PromptVariant.zeroShot.dumpName }
            : candidates
        guard !sets.isEmpty else {
            throw InputError(file: dump.path, "has no zero-shot set of task \(task) to steer (capture with --variants ...,zero-shot, or name sets with --sets)")
        }
        var options = InterventionOptions(kind: "steering", mode: nil, positions: nil, headSetFiles: nil, headSets: nil,
                                          sets: sets.map(\.name))
        options.vectorFiles = entries
        options.layers = layers
        options.scale = scale
        let stems = files.map { ((($0 as NSString).lastPathComponent) as NSString).deletingPathExtension }
        let name = try groupName(request.name ?? "steer.\(stems.joined(separator: "+")).\(layerSpec.label).x\(String(format: "%g", scale))", dump: dump)
        var runner = SteeringRun(transformer: model.transformer, vectors: vectors, layers: layers)
        runner.batchTokens = request.batchTokens
        let plan = InterventionPlan(
            name: name, kind: .steering, options: options.json, definitions: steeringDefinitions(scale: scale), headSets: [],
            sets: sets.map { set in
                .init(name: set.name, rows: set.rowCount, labels: set.labelIDs.count, classification: set.kind == .classification,
                      meanSet: "", meanLeaveOneOut: false, meanPromptIndex: [], outsideScoring: runner.outsideScoring(set))
            },
            layers: dump.layers, heads: dump.heads,
            steering: .init(vectorNames: vectors.map(\.name), families: vectors.map(\.family), values: vectors.flatMap(\.values), layers: layers, dModel: d))
        var summary = InterventionSummary()
        let v = vectors.count, s = layers.count
        let (group, seconds) = try execute(plan, dump: dump, provenance: provenance, progress: progress) { writer, done, reporter in
            for set in sets {
                let outside = runner.outsideScoring(set)
                // Accuracy over every row and over the rows outside each vector's scoring prompts: [V, S]
                var correct = [Int](repeating: 0, count: v * s), outsideCorrect = correct
                var counted = [Int](repeating: 0, count: v)
                var rows = 0
                try runner.run(set, finished: done[set.name] ?? [], progress: reporter) { range, values in
                    try writer.write(set: set.name, rows: range, values)
                    guard case .uint8(let flags) = values["steer_correct"] else { return }
                    for (b, row) in range.enumerated() {
                        for vector in 0..<v {
                            let isOutside = outside[row * v + vector] == 1
                            if isOutside { counted[vector] += 1 }
                            for layer in 0..<s {
                                let flag = Int(flags[(b * v + vector) * s + layer])
                                correct[vector * s + layer] += flag
                                if isOutside { outsideCorrect[vector * s + layer] += flag }
                            }
                        }
                    }
                    rows += range.count
                }
                summary.prompts += rows
                guard rows > 0 else { continue }
                for vector in 0..<v {
                    func accuracies(_ hits: [Int], _ n: Int) -> String {
                        (0..<s).map { String(format: "L%d %.3f", layers[$0], Double(hits[vector * s + $0]) / Double(n)) }.joined(separator: " ")
                    }
                    var line = "\(set.name)\t\(vectors[vector].name)\taccuracy (\(rows) prompts) \(accuracies(correct, rows))"
                    if vector > 0 {
                        line += counted[vector] > 0
                            ? "\toutside its scoring queries (\(counted[vector]) prompts) \(accuracies(outsideCorrect, counted[vector]))"
                            : "\tno prompt outside its scoring queries"
                    }
                    summary.lines.append(line)
                }
            }
        }
        summary.group = group
        summary.seconds = seconds
        return summary
    }

    private static func steeringDefinitions(scale: Float) -> String {
        json([
            "steering": "the vector times the scale (\(scale); steer_vector_values holds it as added) is added to resid_pre of the steer_layer at the last prompt token; the layers below are unchanged, the layers above see it",
            "vector": "a task vector of icl-analyze vector: sum over a head set of each head's mean write z_h @ W_O[l, h] at the answer position over the prompts of a set (Yang, Cho & Inoue)",
            "vector_none": "entry 0: no vector, the model unchanged (the same for every layer)",
            "vector_family": "steer_vector_family: tr or tl (the top set by that score of the head-set file the vector came from), another score's name, random (a random control set of the same size) or other; from the task-vector file's family, inferred from the name and kind (top_<score>, random) for files without one",
            "outside_scoring": "1 when the prompt's query (its token ids) is not the query of any prompt the vector was computed from: evaluate on these (Yang, Cho & Inoue evaluate on queries outside the 50 scoring prompts)",
            "metrics": "from the model's logits at the answer position: full-vocabulary log-probability of gold_token, argmax, argmax = gold_token (steer_correct), argmax in label_ids (steer_in_label_set, classification), logits of label_ids",
            "prompts": "the dump's token_ids of each finished row, exactly as the capture ran them (the zero-shot sets of the vectors' task unless --sets names others)",
        ])
    }
}
