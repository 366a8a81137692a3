import Foundation
import Shared

/// The figures of a set's exact interventions (docs/methods.md §18): each ablation run's exact
/// effects against its random head sets, and the direct-effect estimate against the exact total
/// effect per prompt and head set.
enum InterventionFigures {
    typealias Save = (any SVGFigure, String, String, String) throws -> Void

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
    }
}
