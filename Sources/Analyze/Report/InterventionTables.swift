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

    static let truthHeader = ["set", "intervention", "mode", "scope", "head_set", "estimate_head_set", "heads", "size", "metric",
                              "pairs", "mean_direct_estimate", "mean_exact_total", "pearson", "spearman", "sign_agreement",
                              "worst_head_set", "worst_heads", "worst_prompt_index", "worst_direct_estimate", "worst_exact_total", "dump"]

    /// estimate_vs_truth.csv: per set, run and metric, the agreement of the direct-effect
    /// estimate with the exact total effect for each head set over its prompts
    /// (scope head_set), over every (head set, prompt) pair (all_pairs), and over the head
    /// sets' means (head_set_means: does the estimate rank the sets as the model does).
    static func estimateVsTruth(_ analyses: [DumpAnalysis]) -> CSVTable {
        var rows: [[CSVValue]] = []
        for analysis in analyses {
            for set in analysis.sets {
                let pairs = set.estimateVsTruth.pairs, promptIndex = set.scores.rows.promptIndex
                for run in Array(Set(pairs.map(\.run))).sorted() {
                    let ofRun = pairs.filter { $0.run == run }
                    for metric in EstimateVsTruth.Metric.allCases {
                        func row(scope: String, headSet: CSVValue, estimateName: CSVValue, heads: CSVValue, size: CSVValue,
                                 _ agreement: Agreement, worstSet: HeadSet, worstPrompt: CSVValue) -> [CSVValue] {
                            [.text(set.info.name), .text(run), .text(ofRun[0].mode), .text(scope), headSet, estimateName, heads, size,
                             .text(metric.rawValue), .int(agreement.pairs), .number(agreement.meanEstimate), .number(agreement.meanExact),
                             number(agreement.pearson), number(agreement.spearman), .number(agreement.signAgreement),
                             .text(worstSet.name), Self.heads(worstSet), worstPrompt]
                        }
                        var allEstimates: [Double] = [], allExact: [Double] = [], owner: [(Int, Int)] = []
                        var means: [(estimate: Double, exact: Double, set: Int)] = []
                        for (i, pair) in ofRun.enumerated() {
                            let estimate = pair.estimated[metric]!, exact = pair.exact[metric]!
                            guard let agreement = Agreement(estimate: estimate, exact: exact) else { continue }
                            let w = agreement.worst
                            rows.append(row(scope: "head_set", headSet: .text(pair.headSet.name), estimateName: .text(pair.estimateName),
                                            heads: heads(pair.headSet), size: .int(pair.headSet.heads.count), agreement,
                                            worstSet: pair.headSet, worstPrompt: .int(Int(promptIndex[w])))
                                        + [.number(estimate[w]), .number(exact[w]), .text(analysis.dump.displayName)])
                            allEstimates += estimate
                            allExact += exact
                            owner += estimate.indices.map { (i, $0) }
                            means.append((agreement.meanEstimate, agreement.meanExact, i))
                        }
                        if let all = Agreement(estimate: allEstimates, exact: allExact) {
                            let (i, prompt) = owner[all.worst]
                            rows.append(row(scope: "all_pairs", headSet: .missing, estimateName: .missing, heads: .missing, size: .missing,
                                            all, worstSet: ofRun[i].headSet, worstPrompt: .int(Int(promptIndex[prompt])))
                                        + [.number(allEstimates[all.worst]), .number(allExact[all.worst]), .text(analysis.dump.displayName)])
                        }
                        if means.count > 1, let across = Agreement(estimate: means.map(\.estimate), exact: means.map(\.exact)) {
                            let worst = means[across.worst]
                            rows.append(row(scope: "head_set_means", headSet: .missing, estimateName: .missing, heads: .missing,
                                            size: .missing, across, worstSet: ofRun[worst.set].headSet, worstPrompt: .missing)
                                        + [.number(worst.estimate), .number(worst.exact), .text(analysis.dump.displayName)])
                        }
                    }
                }
            }
        }
        return CSVTable(header: truthHeader, rows: rows)
    }

    /// estimate_vs_truth_prompts.csv: every compared prompt and head set, each metric's
    /// direct-effect estimate and exact total change side by side.
    static func estimateVsTruthPrompts(_ analyses: [DumpAnalysis]) -> CSVTable {
        let metrics = EstimateVsTruth.Metric.allCases
        let header = ["set", "intervention", "mode", "head_set", "heads", "prompt_index"]
            + metrics.flatMap { ["direct_estimate_delta_\($0.rawValue)", "exact_total_delta_\($0.rawValue)"] } + ["dump"]
        var rows: [[CSVValue]] = []
        for analysis in analyses {
            for set in analysis.sets {
                for pair in set.estimateVsTruth.pairs {
                    for (p, index) in set.scores.rows.promptIndex.enumerated() where !pair.exact[.goldLogprobVocab]![p].isNaN {
                        rows.append([.text(set.info.name), .text(pair.run), .text(pair.mode), .text(pair.headSet.name), heads(pair.headSet),
                                     .int(Int(index))]
                                    + metrics.flatMap { [number(pair.estimated[$0]![p].isNaN ? nil : pair.estimated[$0]![p]), .number(pair.exact[$0]![p])] }
                                    + [.text(analysis.dump.displayName)])
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
