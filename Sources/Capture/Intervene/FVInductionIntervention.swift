import Foundation
import Shared

// Legend: P = rows of a set, L = layers, H = heads.

extension DumpPrompts {
    /// The FV score of every head (docs/methods.md §10.1): AIE = the mean over a CIE run's sets
    /// of the mean over their done rows of cie. `run` nil: the dump's only CIE run.
    /// Returns the run's name, the scores [L * H] and the rows used per set.
    func averageIndirectEffects(run: String?) throws -> (run: String, aie: [Double], rows: [String: Int]) {
        let runs = file.exists("interventions")
            ? try file.openGroup("interventions").members(.group).map(\.name).filter {
                (try? file.openGroup("interventions/\($0)").attribute("kind", as: String.self)) == "cie"
            }
            : []
        let name: String
        if let run {
            guard runs.contains(run) else {
                throw InputError(file: path, "has no CIE run /interventions/\(run) (CIE runs: \(runs.isEmpty ? "none" : runs.joined(separator: ", ")))")
            }
            name = run
        } else {
            guard let only = runs.first else { throw InputError(file: path, "has no CIE run: run icl-capture intervene --cie first") }
            guard runs.count == 1 else { throw InputError(file: path, "has several CIE runs (\(runs.joined(separator: ", "))): name one with --fv-from") }
            name = only
        }
        let group = try file.openGroup("interventions/\(name)")
        guard let sets = try? group.attribute("sets", as: [String].self) else {
            throw InputError(file: path, "/interventions/\(name) has no sets attribute")
        }
        let n = layers * heads
        var total = [Double](repeating: 0, count: n), used: [String: Int] = [:]
        for set in sets {
            let done = try file.openDataset("interventions/\(name)/sets/\(set)/done").read(as: UInt8.self)
            let cie = try file.openDataset("interventions/\(name)/sets/\(set)/cie").read(as: Float.self)   // [P, L, H]
            guard cie.count == done.count * n else {
                throw InputError(file: path, "/interventions/\(name)/sets/\(set)/cie has \(cie.count) values, expected \(done.count) x \(n)")
            }
            let rows = done.indices.filter { done[$0] == 1 }
            guard !rows.isEmpty else { continue }
            for row in rows { for j in 0..<n { total[j] += Double(cie[row * n + j]) / Double(rows.count) } }
            used[set] = rows.count
        }
        guard !used.isEmpty else { throw InputError(file: path, "/interventions/\(name) has no finished row: complete it first (rerun icl-capture intervene --cie)") }
        let aie = total.map { $0 / Double(used.count) }
        guard Set(aie).count > 1 else { throw InputError(file: path, "/interventions/\(name): every head has the same AIE, a bug until shown otherwise") }
        return (name, aie, used)
    }
}

extension Intervention {
    /// `--fv-vs-induction`: mean ablation of the top FV and induction head sets (and the
    /// exclusion variant and random sets) at the last prompt token and every generated token,
    /// on the clean few-shot sets (or `request.sets`), leaving each prompt out of its mean.
    static func compareFVAndInduction(_ request: InterventionRequest, _ comparison: FVInductionRequest, model: LoadedModel,
                                      dump: DumpPrompts, candidates: [DumpPromptSet], provenance: [String: String],
                                      progress: (Int) -> ProgressReporter?) throws -> InterventionSummary {
        let ranking = try FVInductionSets.readRanking(path: comparison.inductionFile, layers: dump.layers, heads: dump.heads)
        let tr = try comparison.trFile.map { try FVInductionSets.readRanking(path: $0, layers: dump.layers, heads: dump.heads, score: "tr") }
        let tl = try comparison.tlFile.map { try FVInductionSets.readRanking(path: $0, layers: dump.layers, heads: dump.heads, score: "tl") }
        let fv = try dump.averageIndirectEffects(run: comparison.cieRun)
        let fvOrder = fv.aie.indices.sorted { fv.aie[$0] != fv.aie[$1] ? fv.aie[$0] > fv.aie[$1] : $0 < $1 }
        let selection = FVInductionSets(fv: fvOrder, induction: ranking.heads, tr: tr?.heads, tl: tl?.heads, request: comparison,
                                        layers: dump.layers, heads: dump.heads)
        var resolved = comparison
        resolved.cieRun = fv.run
        var jobs: [AblationRun.Job] = []
        for set in candidates {
            let usable = request.sets != nil || (set.variant == PromptVariant.clean.dumpName && set.shots > 0)
            guard usable else { continue }
            guard let partner = dump.cleanPartner(of: set) else {
                throw InputError(file: dump.path, "set \(set.name) has no clean set of the same task, shots and template to take a mean from")
            }
            let mean = try CleanMean(set: partner, dump: dump)
            if partner.name == set.name && mean.rows.count < 2 {
                throw InputError(file: dump.path, "clean set \(set.name) needs two finished prompts for a leave-one-out mean")
            }
            jobs.append(AblationRun.Job(set: set, mean: mean))
        }
        guard !jobs.isEmpty else { throw InputError(file: dump.path, "has no clean few-shot set to ablate on") }
        let rankingFiles = try ([comparison.inductionFile] + [comparison.trFile, comparison.tlFile].compactMap { $0 }).map {
            InterventionOptions.HeadSetFileEntry(path: $0, sha256: try SHA256.hexDigest(ofFile: $0))
        }
        var options = InterventionOptions(kind: "fv_vs_induction", mode: AblationMode.mean.rawValue, positions: "answer+generated",
                                          headSetFiles: rankingFiles, headSets: selection.headSets, sets: jobs.map(\.set.name))
        options.comparison = resolved
        let name = try groupName(request.name ?? "fv_vs_induction", dump: dump)
        let headSets = selection.headSets
        let plan = InterventionPlan(
            name: name, kind: .fvVsInduction, options: options.json,
            definitions: comparisonDefinitions(resolved, ranking: ranking.score, fvRows: fv.rows, heads: dump.layers * dump.heads,
                                               trScore: tr?.score, tlScore: tl?.score),
            headSets: headSets,
            sets: jobs.map { job in
                .init(name: job.set.name, rows: job.set.rowCount, labels: job.set.labelIDs.count,
                      classification: job.set.kind == .classification, meanSet: job.mean?.set.name ?? "",
                      meanLeaveOneOut: job.leaveOneOut, meanPromptIndex: job.mean?.promptIndex ?? [])
            },
            layers: dump.layers, heads: dump.heads,
            comparison: .init(families: selection.families, percents: selection.percents, newTokens: comparison.newTokens))
        let tokenizer = model.tokenizer
        var runner = AblatedGeneration(transformer: model.transformer, headSets: headSets, newTokens: comparison.newTokens,
                                       stopTokens: Set([tokenizer.eosTokenID].compactMap { $0 })) { tokenizer.decode($0) }
        runner.batchTokens = request.batchTokens
        var summary = InterventionSummary()
        let (group, seconds) = try execute(plan, dump: dump, provenance: provenance, progress: progress) { writer, done, reporter in
            for job in jobs {
                var accuracy = [Double](repeating: 0, count: headSets.count), f1 = accuracy
                var rows = 0
                try runner.run(job, finished: done[job.set.name] ?? [], progress: reporter) { range, values in
                    try writer.write(set: job.set.name, rows: range, values)
                    guard case .uint8(let correct) = values["correct"], case .float32(let scores) = values["generation_f1"] else { return }
                    for (i, flag) in correct.enumerated() { accuracy[i % headSets.count] += Double(flag) }
                    for (i, value) in scores.enumerated() { f1[i % headSets.count] += Double(value) }
                    rows += range.count
                }
                summary.prompts += rows
                guard rows > 0 else { continue }
                summary.lines += comparisonLines(set: job.set.name, selection: selection, accuracy: accuracy.map { $0 / Double(rows) },
                                                 f1: f1.map { $0 / Double(rows) }, percents: comparison.percents)
            }
        }
        summary.group = group
        summary.seconds = seconds
        return summary
    }

    /// Per k: each named family's accuracy and F1, and the random sets' mean and range.
    private static func comparisonLines(set: String, selection: FVInductionSets, accuracy: [Double], f1: [Double],
                                        percents: [Double]) -> [String] {
        var lines = [String(format: "%@\tnone\taccuracy %.3f\tF1 %.3f", set, accuracy[0], f1[0])]
        for k in percents {
            let members = selection.percents.indices.filter { selection.percents[$0] == Float(k) }
            var parts: [String] = []
            for family in ["fv", "induction", "fv_excluding_induction", "induction_excluding_fv", "tr", "tl"] {
                for s in members where selection.families[s] == family {
                    parts.append(String(format: "%@ %.3f/%.3f", family, accuracy[s], f1[s]))
                }
            }
            let random = members.filter { selection.families[$0] == "random" }.map { f1[$0] }
            if let low = random.min(), let high = random.max() {
                parts.append(String(format: "random F1 %.3f [%.3f, %.3f]", random.reduce(0, +) / Double(random.count), low, high))
            }
            lines.append("\(set)\ttop \(String(format: "%g", k))% (accuracy/F1)\t\(parts.joined(separator: "  "))")
        }
        return lines
    }

    private static func comparisonDefinitions(_ request: FVInductionRequest, ranking: String, fvRows: [String: Int], heads: Int,
                                              trScore: String?, tlScore: String?) -> String {
        let rows = fvRows.keys.sorted().map { "\($0): \(fvRows[$0]!)" }.joined(separator: ", ")
        var entries = [
            "random": "\(request.randomSets) random sets per k of the top-k size, drawn outside that k's FV and induction sets\(request.trFile == nil && request.tlFile == nil ? "" : " and its TR and TL sets") (seed \(request.seed))",
        ]
        if let file = request.trFile { entries["tr_ranking"] = "the order of \(file) (score \"\(trScore ?? "")\"): tr_topk = its top-k% heads" }
        if let file = request.tlFile { entries["tl_ranking"] = "the order of \(file) (score \"\(tlScore ?? "")\"): tl_topk = its top-k% heads" }
        return json(entries.merging([
            "ablation": "mean ablation (Yin & Steinhardt): each head of a set has its z replaced by its mean at the answer position over the clean set of the same task, shots and template (leaving the evaluated prompt out on the clean set itself), at the last prompt token and at every generated token",
            "fv_ranking": "AIE = mean over the sets of /interventions/\(request.cieRun ?? "") of the mean CIE over their done rows (rows: \(rows)); ties by head index",
            "induction_ranking": "the order of \(request.inductionFile) (score \"\(ranking.isEmpty ? "unnamed" : ranking)\")",
            "top_k": "top-k% = max(1, floor(k/100 x \(heads))) heads, k in \(request.percents.map { String(format: "%g", $0) }.joined(separator: ", "))",
            "exclusion": "the _excluding_ variants drop the other mechanism's top \(String(format: "%g", request.exclusionPercent))% first, ceil(\(String(format: "%g", request.exclusionPercent))/100 x \(heads)) = \(FVInductionSets.exclusionCount(percent: request.exclusionPercent, of: heads)) heads (METHODS rounds up; Yin & Steinhardt's code rounds down), then take the top k% of the rest",
            "metrics": "from the first generated position's logits: full-vocabulary log-probability of gold_token, argmax, argmax = gold_token (correct), argmax in label_ids (in_label_set, classification), logits of label_ids",
            "generation": "greedy, \(request.newTokens) new tokens, stopping after EOS (kept, then -1)",
            "generation_f1": "token F1 (SQuAD normalisation: lowercase, ASCII punctuation and the articles a/an/the removed, whitespace split) of the first run of word characters, periods and spaces in the decoded continuation (EOS excluded) against gold_text, as Yin & Steinhardt's parse_generation and f1_score",
            "prompts": "the dump's token_ids of each finished row, exactly as the capture ran them",
        ]) { kept, _ in kept })
    }
}
