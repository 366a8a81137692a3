import Foundation
import Shared

/// The figures of a set's steering and FV-vs-induction runs (docs/methods.md §21): steering
/// accuracy per layer of the TR, TL and other vectors against the random vectors' 5th-95th
/// percentile band, and the ablation curves (accuracy and generation F1 against k) of each
/// head-set family against the random sets' band.
enum ComparisonFigures {
    static func write(_ analysis: DumpAnalysis, _ set: SetAnalysis, prefix: String, section: String,
                      save: InterventionFigures.Save) throws {
        let name = set.info.name
        for summary in analysis.comparisons.steering where summary.set == name {
            let vectors = summary.results.vectors, scope = summary.shownScope
            let order = vectors.layers.indices.sorted { vectors.layers[$0] < vectors.layers[$1] }
            func line(_ vector: Int) -> [Double] {
                order.map { layer in summary.rows.first { $0.vector == vector && $0.layer == layer && $0.scope == scope }?.accuracy.value ?? .nan }
            }
            var series = (0..<vectors.count).filter { vectors.families[$0] != HeadSetFamily.random }.map { v in
                LineChart.Series(name: v == 0 ? "none (no vector)" : "\(vectors.names[v]) (\(vectors.families[v]))", values: line(v))
            }
            let randomCount = vectors.families.filter { $0 == HeadSetFamily.random }.count
            if randomCount > 0 {
                let spreads = order.map { summary.randomSpread(layer: $0, scope: scope) { $0.accuracy.value } }
                series.append(LineChart.Series(name: "\(randomCount) random vectors: mean, 5th-95th percentile",
                                               values: spreads.map { $0?.mean ?? .nan }, lower: spreads.map { $0?.p05 ?? .nan },
                                               upper: spreads.map { $0?.p95 ?? .nan }))
            }
            let counted = scope == .outsideScoring ? "prompts whose query is outside the vector's scoring prompts" : "all prompts (no vector has prompts outside its scoring queries)"
            try save(LineChart(title: "Steering accuracy per layer, \(name), \(summary.results.run.name)", xLabel: "layer whose resid_pre receives the vector",
                               yLabel: "top-1 accuracy (full vocabulary)", x: order.map { Double(vectors.layers[$0]) }, series: series),
                     ReportFigures.fileName(prefix, name, "steering", summary.results.run.name), section,
                     "Accuracy of the first generated token when the task vector is added to the residual stream at the last prompt token of the given layer (run \(summary.results.run.name)), over \(counted); the band is the 5th-95th percentile of the random head sets' vectors (steering.csv has every value with Wilson intervals and the change from none).")
        }
        for estimate in analysis.comparisons.steeringEstimates where estimate.set == name {
            let vectors = estimate.results.vectors
            var points: [ScatterPlot.Point] = []
            for vector in 1..<vectors.count {
                for layer in vectors.layers.indices {
                    let pairs = estimate.pairs(vector: vector, layer: layer)
                    for p in pairs.estimate.indices where !pairs.estimate[p].isNaN && !pairs.exact[p].isNaN {
                        points.append(ScatterPlot.Point(x: pairs.estimate[p], y: pairs.exact[p], group: vectors.families[vector]))
                    }
                }
            }
            guard !points.isEmpty else { continue }
            let run = estimate.results.run.name
            try save(ScatterPlot(title: "First-order estimate vs exact change of steering, \(name), \(run)",
                                 xLabel: "first-order estimate v · dM/dresid (\(estimate.metric))", yLabel: "exact change of \(estimate.metric)",
                                 points: points, backgroundGroups: [HeadSetFamily.random]),
                     ReportFigures.fileName(prefix, name, "steering_estimate", run), section,
                     "Each point is one prompt under one vector at one layer of run \(run), coloured by the vector's family: the change of the captured gradient's metric \(estimate.metric) predicted from the stored gradient at the answer position (v · dM/dresid_pre, linear in the vector) against the change the model shows with the vector added. Points on the diagonal: steering acts to first order. Agreement measures: steering_estimate.csv.")
        }
        for summary in analysis.comparisons.fvVsInduction where summary.set == name {
            let percents = summary.results.families.distinctPercents
            let run = summary.results.exact.run.name
            let measures: [(String, String, (FVInductionSummary.Row) -> Double)] = [
                ("accuracy", "top-1 accuracy of the first token", { $0.accuracy.value }),
                ("F1", "mean token F1 of the greedy continuation", { $0.meanF1.value }),
            ]
            for (metric, label, value) in measures {
                var series = summary.namedFamilies.map { family in
                    LineChart.Series(name: family, values: percents.map { k in
                        summary.rows.first { $0.family == family && $0.percent == k }.map(value) ?? .nan
                    })
                }
                if let none = summary.rows.first(where: { $0.family == "none" }) {
                    series.append(LineChart.Series(name: "none (no ablation)", values: percents.map { _ in value(none) }))
                }
                let spreads = percents.map { summary.randomSpread(percent: $0, value) }
                if spreads.contains(where: { $0 != nil }) {
                    series.append(LineChart.Series(name: "random sets: mean, 5th-95th percentile", values: spreads.map { $0?.mean ?? .nan },
                                                   lower: spreads.map { $0?.p05 ?? .nan }, upper: spreads.map { $0?.p95 ?? .nan }))
                }
                try save(LineChart(title: "Mean ablation of top-k% heads: \(metric), \(name)", xLabel: "k (% of heads ablated)", yLabel: label,
                                   x: percents, series: series),
                         ReportFigures.fileName(prefix, name, "fv_vs_induction", metric, run), section,
                         "Yin & Steinhardt's comparison (run \(run), \(summary.results.exact.prompts) prompts): the \(label) when the top-k% heads of each family are mean-ablated at the last prompt token and every generated token; fv = function-vector heads (AIE), induction, each with the other's top heads excluded, tr and tl = the top TR and TL heads where the run has them; the band is the 5th-95th percentile of the random sets of the same size (fv_vs_induction.csv).")
            }
        }
    }

    /// The index page's tables of these runs: steering rows of the vectors that are not random,
    /// the first-order estimate over all pairs, and the FV-vs-induction curves.
    static func tables(_ tables: [(String, CSVTable)]) -> [HTMLReport.Table] {
        func table(_ name: String, _ caption: String, keep: ([String: CSVValue]) -> Bool) -> HTMLReport.Table? {
            guard let found = tables.first(where: { $0.0 == name })?.1 else { return nil }
            let kept = found.rows.filter { keep(Dictionary(uniqueKeysWithValues: zip(found.header, $0))) }
            return kept.isEmpty ? nil : HTMLReport.Table(caption: caption, table: CSVTable(header: found.header, rows: kept), maxRows: 40, csvFile: name)
        }
        return [
            table("steering.csv", "Steering with task vectors: accuracy per vector and layer with the random vectors' spread (steering.csv; random vectors and the other scope there)") {
                $0["family"] != .text(HeadSetFamily.random) && $0["scope"] == .text(SteeringSummary.Scope.outsideScoring.rawValue)
            },
            table("steering_estimate.csv", "First-order estimate of steering (v · dM/dresid) against the exact change, over all vectors, layers and prompts (steering_estimate.csv; per vector and layer there)") {
                $0["scope"] == .text("all_pairs")
            },
            table("fv_vs_induction.csv", "Mean ablation of the top-k% FV, induction, TR and TL heads against random sets (fv_vs_induction.csv)") { _ in true },
        ].compactMap { $0 }
    }
}
