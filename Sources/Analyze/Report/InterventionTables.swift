import Foundation
import Shared

/// The report's tables of the dump's exact interventions (docs/methods.md §18): estimate vs
/// truth (summary and per prompt), exact ablation effects against the random sets' spread, and
/// the overlap of the top sets.
enum InterventionTables {
    static func number(_ value: Double?) -> CSVValue { value.map { .number($0) } ?? .missing }
    static func heads(_ set: HeadSet) -> CSVValue { .text(set.heads.map(\.description).joined(separator: " ")) }

    /// The top sets of a set's report, for overlap and "same heads as".
    static func topSets(_ analysis: DumpAnalysis, _ set: SetAnalysis) -> [HeadSet] {
        [set.topTR, set.topTL] + (analysis.topInduction.map { [$0] } ?? []) + (analysis.functionVector.map { [$0.top] } ?? [])
    }

    static func summaries(_ analysis: DumpAnalysis, _ set: SetAnalysis) -> [ExactAblationSummary] {
        set.exactAblations.map {
            ExactAblationSummary(exact: $0, space: set.scores.space, labelIDs: set.info.labelIDs, topSets: topSets(analysis, set))
        }
    }

    static let truthHeader = ["set", "intervention", "mode", "positions", "scope", "head_set", "estimate_head_set", "heads", "size",
                              "metric", "estimate", "pairs", "mean_estimate", "mean_exact_total", "pearson", "spearman",
                              "sign_agreement", "worst_head_set", "worst_heads", "worst_prompt_index", "worst_estimate",
                              "worst_exact_total", "dump"]

    /// One estimator's per-prompt estimate of one head set's effect in one run, against the
    /// exact effect: [P] each, NaN where a side has no value.
    struct TruthSeries {
        let run: String
        let mode: String
        let positions: String
        /// "direct_effect" (§18.3) or "attribution_patching" (§20).
        let estimate: String
        let metric: String
        let headSet: HeadSet
        let estimateName: CSVValue
        let estimated: [Double]
        let exact: [Double]
    }

    /// Every series of a set: the direct-effect estimate per metric of each compared ablation
    /// run, then attribution patching in the unit of the dump's gradient metric.
    static func series(_ set: SetAnalysis) -> [TruthSeries] {
        var all: [TruthSeries] = []
        for pair in set.estimateVsTruth.pairs {
            for metric in EstimateVsTruth.Metric.allCases {
                all.append(TruthSeries(run: pair.run, mode: pair.mode, positions: "answer", estimate: "direct_effect",
                                       metric: metric.rawValue, headSet: pair.headSet, estimateName: .text(pair.estimateName),
                                       estimated: pair.estimated[metric]!, exact: pair.exact[metric]!))
            }
        }
        let truth = set.attribution.truth
        if let metric = truth.metric {
            for pair in truth.pairs {
                all.append(TruthSeries(run: pair.run, mode: pair.mode, positions: pair.positions, estimate: "attribution_patching",
                                       metric: AttributionVsTruth.exactMetricName(metric), headSet: pair.headSet,
                                       estimateName: .missing, estimated: pair.estimated, exact: pair.exact))
            }
        }
        return all
    }

    /// estimate_vs_truth.csv: per set, run, estimator and metric, the agreement of the
    /// estimate with the exact total effect for each head set over its prompts (scope
    /// head_set), over every (head set, prompt) pair (all_pairs), and over the head sets' means
    /// (head_set_means: does the estimate rank the sets as the model does); for the CIE, over
    /// every (head, prompt) pair and over the heads' means (scope heads).
    static func estimateVsTruth(_ analyses: [DumpAnalysis]) -> CSVTable {
        var rows: [[CSVValue]] = []
        for analysis in analyses {
            for set in analysis.sets {
                let promptIndex = set.scores.rows.promptIndex, dump = CSVValue.text(analysis.dump.displayName)
                let all = series(set)
                var groups: [(run: String, estimate: String, metric: String)] = []
                for s in all where !groups.contains(where: { $0 == (s.run, s.estimate, s.metric) }) { groups.append((s.run, s.estimate, s.metric)) }
                groups.sort { ($0.run, $0.estimate) < ($1.run, $1.estimate) }
                for group in groups {
                    let ofGroup = all.filter { ($0.run, $0.estimate, $0.metric) == group }
                    func row(scope: String, headSet: CSVValue, estimateName: CSVValue, heads: CSVValue, size: CSVValue,
                             _ agreement: Agreement, worstSet: String, worstHeads: CSVValue, worstPrompt: CSVValue,
                             worst: (Double, Double)) -> [CSVValue] {
                        [.text(set.info.name), .text(group.run), .text(ofGroup[0].mode), .text(ofGroup[0].positions), .text(scope),
                         headSet, estimateName, heads, size, .text(group.metric), .text(group.estimate), .int(agreement.pairs),
                         .number(agreement.meanEstimate), .number(agreement.meanExact), number(agreement.pearson),
                         number(agreement.spearman), .number(agreement.signAgreement), .text(worstSet), worstHeads, worstPrompt,
                         .number(worst.0), .number(worst.1), dump]
                    }
                    var allEstimates: [Double] = [], allExact: [Double] = [], owner: [(Int, Int)] = []
                    var means: [(estimate: Double, exact: Double, set: Int)] = []
                    for (i, pair) in ofGroup.enumerated() {
                        guard let agreement = Agreement(estimate: pair.estimated, exact: pair.exact) else { continue }
                        let w = agreement.worst
                        rows.append(row(scope: "head_set", headSet: .text(pair.headSet.name), estimateName: pair.estimateName,
                                        heads: heads(pair.headSet), size: .int(pair.headSet.heads.count), agreement,
                                        worstSet: pair.headSet.name, worstHeads: heads(pair.headSet), worstPrompt: .int(Int(promptIndex[w])),
                                        worst: (pair.estimated[w], pair.exact[w])))
                        allEstimates += pair.estimated
                        allExact += pair.exact
                        owner += pair.estimated.indices.map { (i, $0) }
                        means.append((agreement.meanEstimate, agreement.meanExact, i))
                    }
                    if let agreement = Agreement(estimate: allEstimates, exact: allExact) {
                        let (i, prompt) = owner[agreement.worst]
                        rows.append(row(scope: "all_pairs", headSet: .missing, estimateName: .missing, heads: .missing, size: .missing,
                                        agreement, worstSet: ofGroup[i].headSet.name, worstHeads: heads(ofGroup[i].headSet),
                                        worstPrompt: .int(Int(promptIndex[prompt])),
                                        worst: (allEstimates[agreement.worst], allExact[agreement.worst])))
                    }
                    if means.count > 1, let across = Agreement(estimate: means.map(\.estimate), exact: means.map(\.exact)) {
                        let worst = means[across.worst]
                        rows.append(row(scope: "head_set_means", headSet: .missing, estimateName: .missing, heads: .missing,
                                        size: .missing, across, worstSet: ofGroup[worst.set].headSet.name,
                                        worstHeads: heads(ofGroup[worst.set].headSet), worstPrompt: .missing,
                                        worst: (worst.estimate, worst.exact)))
                    }
                }
                if let cie = set.attribution.truth.cie {
                    rows += cieRows(cie, set: set, heads: analysis.heads, dump: dump)
                }
            }
        }
        return CSVTable(header: truthHeader, rows: rows)
    }

    /// The worst heads named in the CIE rows: this many, largest |estimate - exact| first.
    static let worstHeadCount = 5

    /// cie_atp against cie_exact: over every (head, prompt) pair, and over the heads' means
    /// over the prompts the run finished (scope heads: Spearman over heads is the check).
    static func cieRows(_ cie: AttributionVsTruth.CIEPairs, set: SetAnalysis, heads h: Int, dump: CSVValue) -> [[CSVValue]] {
        let n = set.scores.headCount, p = set.scores.rows.count, promptIndex = set.scores.rows.promptIndex
        var rows: [[CSVValue]] = []
        func row(scope: String, _ agreement: Agreement, worstHead: Int, worstHeads: [Int], worstPrompt: CSVValue,
                 worst: (Double, Double)) -> [CSVValue] {
            [.text(set.info.name), .text(cie.run), .text("cie"), .text("answer"), .text(scope), .missing, .missing, .missing, .missing,
             .text("gold_prob_vocab"), .text("attribution_patching"), .int(agreement.pairs), .number(agreement.meanEstimate),
             .number(agreement.meanExact), number(agreement.pearson), number(agreement.spearman), .number(agreement.signAgreement),
             .text(HeadID(index: worstHead, heads: h).description),
             .text(worstHeads.map { HeadID(index: $0, heads: h).description }.joined(separator: " ")), worstPrompt,
             .number(worst.0), .number(worst.1), dump]
        }
        if let all = Agreement(estimate: cie.estimated, exact: cie.exact) {
            let w = all.worst
            rows.append(row(scope: "all_pairs", all, worstHead: w % n, worstHeads: [w % n], worstPrompt: .int(Int(promptIndex[w / n])),
                            worst: (cie.estimated[w], cie.exact[w])))
        }
        // Per head: the means over the prompts the run finished.
        let finished = (0..<p).filter { !cie.exact[$0 * n].isNaN }
        guard !finished.isEmpty else { return rows }
        let estimate = (0..<n).map { j in finished.reduce(0.0) { $0 + cie.estimated[$1 * n + j] } / Double(finished.count) }
        let exact = (0..<n).map { j in finished.reduce(0.0) { $0 + cie.exact[$1 * n + j] } / Double(finished.count) }
        if let across = Agreement(estimate: estimate, exact: exact) {
            let order = (0..<n).sorted { abs(estimate[$0] - exact[$0]) > abs(estimate[$1] - exact[$1]) }
            rows.append(row(scope: "heads", across, worstHead: across.worst, worstHeads: Array(order.prefix(worstHeadCount)),
                            worstPrompt: .missing, worst: (estimate[across.worst], exact[across.worst])))
        }
        return rows
    }

    /// estimate_vs_truth_prompts.csv: every compared prompt and head set of every run, each
    /// metric's direct-effect estimate and exact total change side by side, and the
    /// attribution-patching estimate with the exact change of the gradient metric.
    static func estimateVsTruthPrompts(_ analyses: [DumpAnalysis]) -> CSVTable {
        let metrics = EstimateVsTruth.Metric.allCases
        let header = ["set", "intervention", "mode", "positions", "head_set", "heads", "prompt_index"]
            + metrics.flatMap { ["direct_estimate_delta_\($0.rawValue)", "exact_total_delta_\($0.rawValue)"] }
            + ["atp_metric", "atp_estimate_delta", "exact_total_delta_atp_metric", "dump"]
        var rows: [[CSVValue]] = []
        for analysis in analyses {
            for set in analysis.sets {
                let direct = set.estimateVsTruth.pairs, attribution = set.attribution.truth.pairs
                let metricName = set.attribution.truth.metric.map(AttributionVsTruth.exactMetricName)
                var keys: [(run: String, headSet: String)] = []
                for key in direct.map({ ($0.run, $0.headSet.name) }) + attribution.map({ ($0.run, $0.headSet.name) })
                    where !keys.contains(where: { $0 == key }) {
                    keys.append(key)
                }
                for key in keys {
                    let pair = direct.first { ($0.run, $0.headSet.name) == key }
                    let atp = attribution.first { ($0.run, $0.headSet.name) == key }
                    let headSet = pair?.headSet ?? atp!.headSet
                    for (p, index) in set.scores.rows.promptIndex.enumerated() {
                        let exactVocab = pair?.exact[.goldLogprobVocab]![p]
                        guard !(exactVocab ?? atp!.exact[p]).isNaN else { continue }
                        var row: [CSVValue] = [.text(set.info.name), .text(key.run), .text(pair?.mode ?? atp!.mode),
                                               .text(atp?.positions ?? "answer"), .text(headSet.name), heads(headSet), .int(Int(index))]
                        for metric in metrics {
                            let estimate = pair?.estimated[metric]![p], exact = pair?.exact[metric]![p]
                            row += [number(estimate.flatMap { $0.isNaN ? nil : $0 }), number(exact)]
                        }
                        row += [atp == nil ? .missing : .text(metricName ?? ""), number(atp?.estimated[p]),
                                number(atp.flatMap { $0.exact[p].isNaN ? nil : $0.exact[p] }), .text(analysis.dump.displayName)]
                        rows.append(row)
                    }
                }
            }
        }
        return CSVTable(header: header, rows: rows)
    }

    /// ablation_exact.csv: per set, run and head set, the exact behaviour under the ablation,
    /// its change from the unablated model, and the random head sets' spread of that change.
    static func exactAblation(_ analyses: [DumpAnalysis]) -> CSVTable {
        let header = ["set", "intervention", "mode", "positions", "head_set", "kind", "size", "heads", "same_heads_as", "prompts",
                      "accuracy", "delta_accuracy", "label_set_ratio", "delta_label_set_ratio", "label_accuracy", "delta_label_accuracy",
                      "mean_gold_logprob", "delta_gold_logprob", "random_sets", "random_delta_gold_logprob_mean",
                      "random_delta_gold_logprob_p05", "random_delta_gold_logprob_p95", "random_delta_accuracy_mean",
                      "random_delta_accuracy_p05", "random_delta_accuracy_p95", "dump"]
        var rows: [[CSVValue]] = []
        for analysis in analyses {
            for set in analysis.sets {
                for summary in summaries(analysis, set) {
                    let run = summary.exact.run
                    for row in summary.rows {
                        let size = row.headSet.heads.count
                        let compare = row.headSet.kind != .random && size > 0
                        let logprob = compare ? summary.randomSpread(size: size, \.deltaGoldLogprob) : nil
                        let accuracy = compare ? summary.randomSpread(size: size, \.deltaAccuracy) : nil
                        rows.append([.text(set.info.name), .text(run.name), .text(run.mode ?? ""), .text(run.positions ?? ""),
                                     .text(row.headSet.name), .text(row.headSet.name == "none" ? "none" : row.headSet.kind.rawValue),
                                     .int(size), heads(row.headSet), .text(row.sameHeadsAs.joined(separator: "|")),
                                     .int(summary.exact.prompts), .number(row.accuracy), .number(row.deltaAccuracy),
                                     number(row.labelSetRatio), number(row.deltaLabelSetRatio), .number(row.labelAccuracy),
                                     .number(row.deltaLabelAccuracy), .number(row.meanGoldLogprob), .number(row.deltaGoldLogprob),
                                     logprob.map { .int($0.sets) } ?? .missing, number(logprob?.mean), number(logprob?.p05),
                                     number(logprob?.p95), number(accuracy?.mean), number(accuracy?.p05), number(accuracy?.p95),
                                     .text(analysis.dump.displayName)])
                    }
                }
            }
        }
        return CSVTable(header: header, rows: rows)
    }

    /// overlap.csv: Jaccard overlap of every pair of the top TR, TL, induction and FV sets.
    static func overlap(_ analyses: [DumpAnalysis]) -> CSVTable {
        var rows: [[CSVValue]] = []
        for analysis in analyses {
            for set in analysis.sets {
                let sets = topSets(analysis, set)
                for a in sets.indices {
                    for b in sets.indices where b > a {
                        let x = Set(sets[a].heads.map { $0.layer * analysis.heads + $0.head })
                        let y = Set(sets[b].heads.map { $0.layer * analysis.heads + $0.head })
                        rows.append([.text(set.info.name), .text(sets[a].name), .text(sets[b].name), .int(x.count), .int(y.count),
                                     .int(x.intersection(y).count), .number(Overlap.jaccard(x, y)), .text(analysis.dump.displayName)])
                    }
                }
            }
        }
        return CSVTable(header: ["set", "set_a", "set_b", "size_a", "size_b", "shared", "jaccard", "dump"], rows: rows)
    }
}
