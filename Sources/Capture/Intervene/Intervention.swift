import Foundation
import Shared

/// What `icl-capture intervene` was asked to do.
public struct InterventionRequest: Sendable {
    public enum Action: Sendable {
        /// Ablate every set of the head-set files (HeadSetFile).
        case ablate(headSetFiles: [String], mode: AblationMode, positions: AblationPositions)
        /// The exact CIE of every head on every shuffled-labels set with a clean partner.
        case cie
    }

    public var dump: String
    public var action: Action
    /// Prompt sets to run; nil for every set the action applies to.
    public var sets: [String]?
    /// The group under /interventions; nil for a name made from the options.
    public var name: String?
    public var batchTokens = 2048

    public init(dump: String, action: Action, sets: [String]? = nil, name: String? = nil) {
        self.dump = dump
        self.action = action
        self.sets = sets
        self.name = name
    }
}

/// The options a run stores (`options` attribute) and a rerun must repeat to resume.
struct InterventionOptions: Codable {
    struct HeadSetFileEntry: Codable {
        let path: String
        let sha256: String
    }

    let kind: String
    let mode: String?
    let positions: String?
    let headSetFiles: [HeadSetFileEntry]?
    let headSets: [HeadSet]?
    let sets: [String]

    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }
}

/// One line per set and head set (ablation) or per set (CIE) about the rows this run computed.
public struct InterventionSummary: Sendable {
    public var group = ""
    public var prompts = 0
    public var seconds = 0.0
    public var lines: [String] = []
    public var skipped: [String] = []
}

/// Runs an intervention request against a dump with its model: checks everything it can
/// before touching the file (bad input leaves the dump as it was), then adds or resumes the
/// run's group (InterventionWriter).
public enum Intervention {
    public static func run(_ request: InterventionRequest, model: LoadedModel, modelSHA256: String,
                           provenance: [String: String], progress: (Int) -> ProgressReporter?) throws -> InterventionSummary {
        let dump = try DumpPrompts(path: request.dump)
        defer { try? dump.close() }
        try checkModel(model, sha256: modelSHA256, against: dump)
        if let wanted = request.sets {
            for name in wanted where dump.set(named: name) == nil {
                throw InputError(file: dump.path, "has no set \(name) (sets: \(dump.sets.map(\.name).joined(separator: ", ")))")
            }
        }
        let candidates = request.sets.map { $0.compactMap(dump.set(named:)) } ?? dump.sets
        var summary = InterventionSummary()
        switch request.action {
        case .ablate(let files, let mode, let positions):
            var headSets = [HeadSet(name: "none", kind: .named, heads: [])]
            var entries: [InterventionOptions.HeadSetFileEntry] = []
            for path in files {
                for set in try HeadSetFile.read(path: path, layers: dump.layers, heads: dump.heads) {
                    guard !headSets.contains(where: { $0.name == set.name }) else {
                        throw InputError(file: path, "names set \(set.name), which an earlier head-set file (or \"none\") already names")
                    }
                    headSets.append(set)
                }
                entries.append(.init(path: path, sha256: try SHA256.hexDigest(ofFile: path)))
            }
            var jobs: [AblationRun.Job] = []
            for set in candidates {
                guard mode == .mean else { jobs.append(AblationRun.Job(set: set, mean: nil)); continue }
                guard let partner = dump.cleanPartner(of: set) else {
                    if request.sets != nil {
                        throw InputError(file: dump.path, "set \(set.name) has no clean set of the same task, shots and template to take a mean from")
                    }
                    summary.skipped.append(set.name)
                    continue
                }
                let mean = try CleanMean(set: partner, dump: dump)
                if partner.name == set.name && mean.rows.count < 2 {
                    throw InputError(file: dump.path, "clean set \(set.name) needs two finished prompts for a leave-one-out mean")
                }
                jobs.append(AblationRun.Job(set: set, mean: mean))
            }
            guard !jobs.isEmpty else { throw InputError(file: dump.path, "has no set to ablate on (mean ablation needs a clean set of the same task, shots and template)") }
            let options = InterventionOptions(kind: "ablation", mode: mode.rawValue, positions: positions.rawValue,
                                              headSetFiles: entries, headSets: headSets, sets: jobs.map(\.set.name))
            let stems = files.map { ((($0 as NSString).lastPathComponent) as NSString).deletingPathExtension }
            let name = try groupName(request.name ?? "ablate.\(mode.rawValue).\(positions.rawValue).\(stems.joined(separator: "+"))", dump: dump)
            let plan = InterventionPlan(
                name: name, kind: .ablation, options: options.json,
                definitions: definitions(mode: mode, positions: positions), headSets: headSets,
                sets: jobs.map { job in
                    .init(name: job.set.name, rows: job.set.rowCount, labels: job.set.labelIDs.count,
                          classification: job.set.kind == .classification, meanSet: job.mean?.set.name ?? "",
                          meanLeaveOneOut: job.leaveOneOut, meanPromptIndex: job.mean?.promptIndex ?? [])
                },
                layers: dump.layers, heads: dump.heads)
            var runner = AblationRun(transformer: model.transformer, mode: mode, positions: positions, headSets: headSets)
            runner.batchTokens = request.batchTokens
            let (group, seconds) = try execute(plan, dump: dump, provenance: provenance, progress: progress) { writer, done, reporter in
                for job in jobs {
                    var accuracy = [Int](repeating: 0, count: headSets.count), logprob = [Double](repeating: 0, count: headSets.count)
                    var rows = 0
                    try runner.run(job, finished: done[job.set.name] ?? [], progress: reporter) { range, values in
                        try writer.write(set: job.set.name, rows: range, values)
                        guard case .uint8(let correct) = values["correct"], case .float32(let gold) = values["gold_logprob"] else { return }
                        for (i, flag) in correct.enumerated() { accuracy[i % headSets.count] += Int(flag) }
                        for (i, value) in gold.enumerated() { logprob[i % headSets.count] += Double(value) }
                        rows += range.count
                    }
                    summary.prompts += rows
                    guard rows > 0 else { continue }
                    for (s, headSet) in headSets.enumerated() {
                        summary.lines.append(String(format: "%@\t%@\taccuracy %.3f\tmean gold logprob %.3f", job.set.name, headSet.name,
                                                    Double(accuracy[s]) / Double(rows), logprob[s] / Double(rows)))
                    }
                }
            }
            summary.group = group
            summary.seconds = seconds
        case .cie:
            var jobs: [(DumpPromptSet, CleanMean)] = []
            for set in candidates {
                let partner = dump.cleanPartner(of: set)
                guard set.variant == PromptVariant.shuffledLabels.dumpName, let partner else {
                    if request.sets != nil {
                        throw InputError(file: dump.path, "set \(set.name) is not a shuffled-labels set with a clean set of the same task, shots and template")
                    }
                    continue
                }
                jobs.append((set, try CleanMean(set: partner, dump: dump)))
            }
            guard !jobs.isEmpty else {
                throw InputError(file: dump.path, "has no shuffled-labels set with a clean set of the same task, shots and template (capture with --variants clean,shuffled-labels)")
            }
            let options = InterventionOptions(kind: "cie", mode: nil, positions: nil, headSetFiles: nil, headSets: nil,
                                              sets: jobs.map(\.0.name))
            let name = try groupName(request.name ?? "cie", dump: dump)
            let plan = InterventionPlan(
                name: name, kind: .cie, options: options.json, definitions: cieDefinitions, headSets: [],
                sets: jobs.map { set, mean in
                    .init(name: set.name, rows: set.rowCount, labels: set.labelIDs.count, classification: set.kind == .classification,
                          meanSet: mean.set.name, meanLeaveOneOut: false, meanPromptIndex: mean.promptIndex)
                },
                layers: dump.layers, heads: dump.heads)
            var runner = CIERun(transformer: model.transformer)
            runner.batchTokens = request.batchTokens
            let (group, seconds) = try execute(plan, dump: dump, provenance: provenance, progress: progress) { writer, done, reporter in
                for (set, mean) in jobs {
                    var total = [Double](repeating: 0, count: dump.layers * dump.heads)
                    var rows = 0
                    try runner.run(set, mean: mean, finished: done[set.name] ?? [], progress: reporter) { range, values in
                        try writer.write(set: set.name, rows: range, values)
                        guard case .float32(let cie) = values["cie"] else { return }
                        for (i, value) in cie.enumerated() { total[i % total.count] += Double(value) }
                        rows += range.count
                    }
                    summary.prompts += rows
                    guard rows > 0 else { continue }
                    let top = total.indices.sorted { total[$0] > total[$1] }.prefix(5)
                    let heads = top.map { String(format: "%@ (%.4f)", HeadID(index: $0, heads: dump.heads).description, total[$0] / Double(rows)) }
                    summary.lines.append("\(set.name)\ttop CIE: \(heads.joined(separator: " "))")
                }
            }
            summary.group = group
            summary.seconds = seconds
        }
        return summary
    }

    /// Opens the writer, runs `body` over the sets, and finishes the dump. Returns the group's
    /// path and the seconds it took.
    private static func execute(_ plan: InterventionPlan, dump: DumpPrompts, provenance: [String: String],
                                progress: (Int) -> ProgressReporter?,
                                _ body: (InterventionWriter, [String: [Bool]], ProgressReporter?) throws -> Void) throws -> (String, Double) {
        // Everything is read: the writer opens the file for writing alone.
        try dump.close()
        // Checked read-only first, so that a clash leaves the file untouched.
        if case .some(let stored) = try InterventionWriter.existingOptions(dump: dump.path, name: plan.name), stored != plan.options {
            guard stored != nil else {
                throw InputError(file: dump.path, "/interventions/\(plan.name) was left incomplete by a run killed while creating it; choose another --name")
            }
            throw InputError(file: dump.path, "/interventions/\(plan.name) holds a run with other options; choose another --name")
        }
        let (writer, done) = try InterventionWriter.open(dump: dump.path, plan: plan, provenance: provenance,
                                                        threads: ComputeThreads.count)
        let remaining = plan.sets.reduce(0) { total, set in
            let flags = done[set.name] ?? []
            return total + (dump.set(named: set.name)?.doneRows.filter { !flags[$0] }.count ?? 0)
        }
        let start = Date()
        let reporter = progress(remaining)
        do {
            try body(writer, done, reporter)
        } catch let error as InputError {
            _ = try? writer.finish()
            throw InputError(file: error.file, "\(error.problem); \(dump.path) keeps every finished row: rerun the same command to continue")
        }
        reporter?.finish()
        try writer.finish()
        return ("/interventions/\(plan.name)", Date().timeIntervalSince(start))
    }

    private static func groupName(_ name: String, dump: DumpPrompts) throws -> String {
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
            throw InputError(file: dump.path, "--name \(name.debugDescription) cannot name a group (no '/', not empty)")
        }
        return name
    }

    /// The model must be the one the dump was captured from: same shape, same file hash.
    private static func checkModel(_ model: LoadedModel, sha256: String, against dump: DumpPrompts) throws {
        let c = model.config
        guard c.layerCount == dump.layers, c.headCount == dump.heads, c.headDim == dump.headDim, c.hiddenSize == dump.modelWidth else {
            throw InputError(file: dump.path, "was captured from a model of \(dump.layers) layers x \(dump.heads) heads of \(dump.headDim) (d_model \(dump.modelWidth)), not \(model.path) (\(c.layerCount) x \(c.headCount) of \(c.headDim), d_model \(c.hiddenSize))")
        }
        guard sha256 == dump.modelSHA256 else {
            throw InputError(file: dump.path, "was captured from another model (\(dump.modelPath), sha256 \(dump.modelSHA256.prefix(12))...), not \(model.path) (sha256 \(sha256.prefix(12))...)")
        }
    }

    private static func definitions(mode: AblationMode, positions: AblationPositions) -> String {
        let entries: [String: String] = [
            "ablation": mode == .zero
                ? "each head of the set has its z (input of o_proj) set to zero"
                : "each head of the set has its z replaced by its mean at the answer position over the clean set of the same task, shots and template (mean_set); on the clean set itself the mean leaves the evaluated prompt out",
            "positions": positions == .answer
                ? "the replacement applies at the answer position (last prompt token) only"
                : "the replacement applies at every position of the prompt\(mode == .mean ? " (the answer-position mean everywhere)" : "")",
            "head_set none": "no heads: the model unchanged, computed the same way",
            "metrics": "from the model's logits at the answer position: full-vocabulary log-probability of gold_token, argmax, argmax = gold_token (correct), argmax in label_ids (in_label_set, classification), logits of label_ids",
            "prompts": "the dump's token_ids of each finished row, exactly as the capture ran them",
        ]
        return json(entries)
    }

    private static var cieDefinitions: String {
        json([
            "cie": "P(gold | corrupted prompt, z_h at the last position := clean mean) - P(gold | corrupted prompt); P = softmax over the full vocabulary of gold_token (Todd et al. 2024)",
            "clean_mean": "mean of z_h at the answer position over every finished prompt of the clean set of the same task, shots and template (mean_set, mean_prompt_index); no filter on whether the model answered correctly",
            "corrupted": "the shuffled-labels prompts as captured (token_ids)",
            "computation": "the prefix runs once into a KV cache; each head's patched run recomputes the last token from the head's layer on",
        ])
    }

    private static func json(_ entries: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(entries)) ?? Data(), as: UTF8.self)
    }
}
