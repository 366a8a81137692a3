import Foundation
import Shared

/// The figures of a set's exact interventions (docs/methods.md §18): each ablation run's exact
/// effects against its random head sets, and the direct-effect estimate against the exact total
/// effect per prompt and head set.
enum InterventionFigures {
    typealias Save = (any SVGFigure, String, String, String) throws -> Void

    /// Attribution patching against the exact runs (§20.3): per ablation run every (head set,
    /// prompt), and per head the mean first-order CIE against the exact CIE.
    static func writeAttribution(_ set: SetAnalysis, prefix: String, section: String, save: Save) throws {
        let name = set.info.name, truth = set.attribution.truth
        guard let metric = truth.metric else { return }
        let unit = "Δ " + AttributionVsTruth.exactMetricName(metric)
        for run in Array(Set(truth.pairs.map(\.run))).sorted() {
            let pairs = truth.pairs.filter { $0.run == run }
            var points: [ScatterPlot.Point] = []
            for pair in pairs {
                let group = pair.headSet.kind == .random ? "random sets" : pair.headSet.name
                for p in pair.estimated.indices where !pair.exact[p].isNaN {
                    points.append(ScatterPlot.Point(x: pair.estimated[p], y: pair.exact[p], group: group))
                }
            }
            try save(ScatterPlot(title: "Attribution patching vs exact effect, \(name), \(run)",
                                 xLabel: "first-order estimate: \(unit)", yLabel: "exact: \(unit)",
                                 points: points, backgroundGroups: ["random sets"]),
                     ReportFigures.fileName(prefix, name, "atp_vs_truth", run), section,
                     "Each point is one prompt under one head set of run \(run) (\(pairs.first?.mode ?? "") ablation at \(pairs.first?.positions ?? "") positions): the first-order estimate from the dump's gradients, sum over the heads of (z' - z) · dM/dz, against the change of the same metric the model itself shows. Agreement measures: estimate_vs_truth.csv (estimate attribution_patching).")
        }
        if let cie = truth.cie {
            let n = set.scores.headCount, p = set.scores.rows.count
            let finished = (0..<p).filter { !cie.exact[$0 * n].isNaN }
            guard !finished.isEmpty else { return }
            let points = (0..<n).map { j in
                ScatterPlot.Point(x: finished.reduce(0.0) { $0 + cie.estimated[$1 * n + j] } / Double(finished.count),
                                  y: finished.reduce(0.0) { $0 + cie.exact[$1 * n + j] } / Double(finished.count), group: "heads")
            }
            try save(ScatterPlot(title: "First-order CIE vs exact CIE per head, \(name)",
                                 xLabel: "cie_atp: mean (clean mean - z) · dP/dz", yLabel: "cie_exact: mean ΔP(gold)",
                                 points: points, backgroundGroups: []),
                     ReportFigures.fileName(prefix, name, "cie_atp", cie.run), section,
                     "Each point is one head: its attribution-patching CIE (first order, from the dump's gradients) against its exact CIE from run \(cie.run), both the mean over the \(finished.count) prompts the run finished. Spearman, Pearson, sign agreement and the worst heads: estimate_vs_truth.csv (scope heads).")
        }
    }

    static func write(_ analysis: DumpAnalysis, _ set: SetAnalysis, prefix: String, section: String, save: Save) throws {
        let name = set.info.name
        for summary in InterventionTables.summaries(analysis, set) {
            let run = summary.exact.run
            let shown = summary.rows.filter { $0.headSet.kind != .random && !$0.headSet.heads.isEmpty }
            guard !shown.isEmpty else { continue }
            let categories = shown.map { row in
                BarChart.Category(name: row.sameHeadsAs.isEmpty || row.sameHeadsAs == [row.headSet.name] ? row.headSet.name
                                      : "\(row.headSet.name) (= \(row.sameHeadsAs.joined(separator: ", ")))",
                                  bars: [BarChart.Bar(value: row.deltaGoldLogprob)],
                                  reference: summary.rows.filter { $0.headSet.kind == .random && $0.headSet.heads.count == row.headSet.heads.count }
                                      .map(\.deltaGoldLogprob))
            }
            let randomCount = summary.rows.filter { $0.headSet.kind == .random }.count
            try save(BarChart(title: "Exact \(run.mode ?? "") ablation at \(run.positions ?? "") (total effect), \(name)",
                              valueLabel: "Δ mean gold log-probability (full vocabulary)", seriesNames: [run.name],
                              categories: categories, referenceName: "\(randomCount) random head sets of the same size"),
                     ReportFigures.fileName(prefix, name, "exact", run.name), section,
                     "Change in the mean full-vocabulary log-probability of the gold token when the model runs with the head set's z replaced (\(run.mode ?? "") ablation, \(run.positions ?? "") positions; run \(run.name), \(summary.exact.prompts) prompts); boxes: the run's random head sets of the same size (5th-95th percentile, every set a dot). Exact total effects through the model.")
        }
        for run in Array(Set(set.estimateVsTruth.pairs.map(\.run))).sorted() {
            let pairs = set.estimateVsTruth.pairs.filter { $0.run == run }
            var points: [ScatterPlot.Point] = []
            for pair in pairs {
                let estimate = pair.estimated[.goldLogprobLabels]!, exact = pair.exact[.goldLogprobLabels]!
                let group = pair.headSet.kind == .random ? "random sets" : pair.headSet.name
                for p in estimate.indices where !exact[p].isNaN {
                    points.append(ScatterPlot.Point(x: estimate[p], y: exact[p], group: group))
                }
            }
            try save(ScatterPlot(title: "Direct-effect estimate vs exact total effect, \(name), \(run)",
                                 xLabel: "direct-effect estimate: Δ gold log-prob over labels", yLabel: "exact total effect: Δ gold log-prob over labels",
                                 points: points, backgroundGroups: ["random sets"]),
                     ReportFigures.fileName(prefix, name, "estimate_vs_truth", run), section,
                     "Each point is one prompt under one head set of run \(run) (\(pairs.first?.mode ?? "") ablation at the answer position): the analyzer's dump-only estimate of the change in the gold label's label-restricted log-probability (direct path only, final norm recomputed) against the change the model itself shows (every downstream layer sees the ablation). Points on the diagonal: the direct effect is the whole effect. Agreement measures: estimate_vs_truth.csv.")
        }
        try writeAttribution(set, prefix: prefix, section: section, save: save)
    }
}
