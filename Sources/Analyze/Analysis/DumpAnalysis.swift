import Foundation
import Shared

/// The whole analysis of one capture (one file or its shards): induction scores from the probe,
/// then per set the scores, the top sets, intervals, and the ablation and geometry estimates;
/// where the dump holds `icl-capture intervene` runs, their exact results beside the estimates
/// (docs/methods.md §18).
public struct DumpAnalysis: Sendable {
    public let dump: ShardedDump
    public let weights: DumpWeights
    public let options: AnalysisOptions
    public let induction: InductionScores?
    public let topInduction: HeadSet?
    public let fileSets: [HeadSet]
    /// Every /interventions run of the dump (listed in summary.json, read where the kind is known).
    public let interventions: [InterventionRun]
    /// Exact CIE and function-vector scores, when the dump has a CIE run.
    public let functionVector: FunctionVectorScores?
    public let sets: [SetAnalysis]
    /// The metric of the dump's gradients (`--grads`), nil without them.
    public let gradientMetric: GradientMetric?
    /// The steering and FV-vs-induction runs (docs/methods.md §21).
    public let comparisons: ComparisonRuns
    /// How much of the next set is read ahead while a set's later passes compute: about what a
    /// disk reads meanwhile, and page cache, not this process's memory.
    static let prefetchBytes = 512 << 20
    public var layers: Int { weights.layers }
    public var heads: Int { weights.heads }
    public var topCount: Int { Ranking.topCount(fraction: options.topFraction, of: layers * heads) }
    public var modelName: String { dump.files[0].rootAttribute("model_name").flatMap { $0.isEmpty ? nil : $0 } ?? dump.displayName }

    /// `progress(label, done, total)` is called as prompts finish.
    public init(dump: ShardedDump, options: AnalysisOptions, progress: ProgressReporter? = nil) throws {
        self.dump = dump
        self.options = options
        let weights = try DumpWeights(file: dump.files[0])
        self.weights = weights
        let n = weights.layers * weights.heads
        let k = Ranking.topCount(fraction: options.topFraction, of: n)
        induction = try dump.probeNames.first.map { try InductionScores.compute(dump: dump, probe: $0) }
        topInduction = induction.map { scores in
            HeadSet(name: "top_induction", kind: .named, heads: Ranking.topIndices(scores.stripe, count: k).map { HeadID(index: $0, heads: weights.heads) })
        }
        let interventions = try InterventionRun.all(in: dump)
        self.interventions = interventions
        let functionVector = try FunctionVectorScores(dump: dump, runs: interventions, weights: weights, topCount: k)
        self.functionVector = functionVector
        fileSets = try options.headSetFiles.flatMap { path in
            try HeadSetFile.read(path: path, layers: weights.layers, heads: weights.heads).map {
                HeadSet(name: "file:\($0.name)", kind: .file, heads: $0.heads)
            }
        }
        let metric = try GradientMetric.of(dump)
        gradientMetric = metric
        var sets: [SetAnalysis] = []
        // The passes' buffers, reused from set to set.
        let pool = FloatBufferPool()
        let names = dump.setNames
        var nextRows = try names.first.map { try SetRows(dump: dump, set: $0) }
        // The next set's first reads, started once a set's score pass is done (docs/methods.md §27.3).
        var prefetch: ReadAhead?
        defer { prefetch?.stop() }
        for (index, name) in names.enumerated() {
            guard let rows = nextRows else { break }
            guard rows.count > 0 else {
                throw InputError(file: dump.files[0].path, "set \(name) has no finished prompt (every done flag is 0)")
            }
            let space = try LabelSpace(rows: rows, weights: weights, option: options.subspace, path: dump.files[0].path)
            let scores = try HeadScorePass.run(dump: dump, weights: weights, rows: rows, space: space, pool: pool) { done in
                progress?.advance(by: 0, tokens: 0, label: "\(name): scores \(done)/\(rows.count)")
            }
            prefetch?.stop()
            prefetch = nil
            nextRows = index + 1 < names.count ? try SetRows(dump: dump, set: names[index + 1]) : nil
            if let next = nextRows, next.count > 0 {
                prefetch = try HeadScorePass.prefetch(dump: dump, rows: next, bytes: Self.prefetchBytes)
            }
            let tr = scores.meanTR, tl = scores.meanTL
            let topTR = HeadSet(name: "top_tr", kind: .named, heads: Ranking.topIndices(tr, count: k).map { HeadID(index: $0, heads: weights.heads) })
            let topTL = HeadSet(name: "top_tl", kind: .named, heads: Ranking.topIndices(tl, count: k).map { HeadID(index: $0, heads: weights.heads) })
            let setSeed = SplitMix64.derive(options.seed, SplitMix64.fnv1a(name))
            let trBootstrap = HeadBootstrap(scores: scores.tr.map(Double.init), prompts: rows.count, heads: n,
                                            replicates: options.bootstrapReplicates, seed: setSeed, topCount: k)
            let tlBootstrap = HeadBootstrap(scores: scores.tl.map(Double.init), prompts: rows.count, heads: n,
                                            replicates: options.bootstrapReplicates, seed: setSeed &+ 1, topCount: k)
            let dlaGoldBootstrap = HeadBootstrap(scores: scores.dlaGold.map(Double.init), prompts: rows.count, heads: n,
                                                 replicates: options.bootstrapReplicates,
                                                 seed: SplitMix64.derive(setSeed, SplitMix64.fnv1a("dla_gold")), topCount: k)
            let dlaMarginBootstrap = HeadBootstrap(scores: scores.dlaMargin.map(Double.init), prompts: rows.count, heads: n,
                                                   replicates: options.bootstrapReplicates,
                                                   seed: SplitMix64.derive(setSeed, SplitMix64.fnv1a("dla_margin")), topCount: 0)
            // The five masses of every head as the columns of one bootstrap: [P, L*H*C].
            let attentionBootstrap = HeadBootstrap(scores: scores.attention.map(Double.init), prompts: rows.count,
                                                   heads: n * KeyCategory.allCases.count, replicates: options.bootstrapReplicates,
                                                   seed: SplitMix64.derive(setSeed, SplitMix64.fnv1a("attention")), topCount: 0)
            let named = [topTR, topTL] + (topInduction.map { [$0] } ?? []) + (functionVector.map { [$0.top] } ?? []) + fileSets
            let excluded = Set(named.flatMap(\.heads))
            let random = HeadSet.randomSets(count: options.randomSets, size: k, layers: weights.layers, heads: weights.heads,
                                            excluded: excluded, seed: setSeed &+ 2)
            // Exact ablations of this set; each head set of an answer-position run gets an
            // estimate: the report's set with the same heads, else one added for it (§18.3).
            let slots = PromptSlots(rows: rows, files: dump.files.count)
            let exact = try interventions.filter { $0.kind == .ablation && $0.sets.contains(name) }.map {
                try ExactAblation(run: $0, set: name, rows: rows, slots: slots, dump: dump)
            }
            var passSets = named + random
            var kinds = passSets.map(\.kind.rawValue)
            var estimateIndex: [[Int?]] = []
            for run in exact {
                guard EstimateVsTruth.mismatch(run, rows: rows) == nil else {
                    estimateIndex.append([])
                    continue
                }
                estimateIndex.append(run.run.headSets.enumerated().map { s, headSet in
                    guard s > 0 else { return nil }
                    if let index = passSets.firstIndex(where: { $0.heads == headSet.heads }) { return index }
                    passSets.append(HeadSet(name: "\(run.run.name):\(headSet.name)", kind: headSet.kind, heads: headSet.heads))
                    kinds.append("intervention")
                    return passSets.count - 1
                })
            }
            // The head sets of the runs the direct effect cannot be compared with still get
            // both estimates in ablation.csv (§20.3).
            for run in exact {
                for headSet in run.run.headSets.dropFirst() where !passSets.contains(where: { $0.heads == headSet.heads }) {
                    passSets.append(HeadSet(name: "\(run.run.name):\(headSet.name)", kind: headSet.kind, heads: headSet.heads))
                    kinds.append("intervention")
                }
            }
            let compared = Array(Set(estimateIndex.flatMap { $0.compactMap { $0 } })).sorted()
            let (directAblation, geometry, perPrompt) = try AblationPass.run(dump: dump, weights: weights, scores: scores,
                                                                       headSets: passSets, kinds: kinds, perPromptSets: compared,
                                                                       geometrySets: [topTR, topTL], pool: pool) { done in
                progress?.advance(by: 0, tokens: 0, label: "\(name): ablation \(done)/\(rows.count)")
            }
            let truth = EstimateVsTruth(exact: exact, estimateIndex: estimateIndex, estimateNames: passSets.map(\.name),
                                        perPrompt: perPrompt, rows: rows, space: space)
            let attributed = try SetAttribution(dump: dump, weights: weights, rows: rows, metric: metric, exact: exact,
                                                exactCIE: functionVector?.perSet[name])
            var ablation = directAblation
            if let attribution = attributed.heads {
                let h = weights.heads
                func mean(_ values: [Double]?, _ heads: [HeadID]) -> Double? {
                    values.map { Summary.mean(attribution.headSet(heads, of: $0, headsPerLayer: h)) ?? .nan }
                }
                for (s, set) in passSets.enumerated() {
                    ablation[1 + 2 * s].attributionAnswer = mean(attribution.zeroAnswer, set.heads)
                    ablation[1 + 2 * s].attributionAllPositions = mean(attribution.zeroAll, set.heads)
                    ablation[2 + 2 * s].attributionAnswer = mean(attribution.meanAnswer[0], set.heads)
                    ablation[2 + 2 * s].attributionAllPositions = mean(attribution.meanAll[0], set.heads)
                }
            }
            progress?.advance(by: 1, tokens: rows.count, label: name)
            sets.append(SetAnalysis(scores: scores,
                                    behaviour: SetBehaviour(rows: rows, space: space, seed: setSeed &+ 3, replicates: 2000),
                                    topTR: topTR, topTL: topTL, trBootstrap: trBootstrap, tlBootstrap: tlBootstrap,
                                    dlaGoldBootstrap: dlaGoldBootstrap, dlaMarginBootstrap: dlaMarginBootstrap,
                                    attentionBootstrap: attentionBootstrap,
                                    randomSets: random, ablation: ablation, geometry: geometry,
                                    exactAblations: exact, estimateVsTruth: truth,
                                    exactCIE: functionVector?.perSet[name], attribution: attributed))
        }
        self.sets = sets
        comparisons = try ComparisonRuns(dump: dump, runs: interventions, sets: sets, options: options)
    }
}
