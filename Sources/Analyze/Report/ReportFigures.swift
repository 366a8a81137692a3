import Foundation
import Shared

/// The report's figures and its index page.
enum ReportFigures {
    struct Written {
        /// Figures of the whole report, then per dump and set: (section, figure).
        var figures: [(section: String, figure: HTMLReport.Figure)] = []
    }

    static func fileName(_ parts: String...) -> String {
        parts.joined(separator: "_").map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_" ? String($0) : "_" }.joined() + ".svg"
    }

    static func write(_ analyses: [DumpAnalysis], to folder: URL) throws -> Written {
        var written = Written()
        func save(_ figure: any SVGFigure, _ file: String, section: String, caption: String) throws {
            try figure.write(to: folder.appendingPathComponent(file))
            written.figures.append((section, HTMLReport.Figure(file: file, caption: caption)))
        }
        for (d, analysis) in analyses.enumerated() {
            let prefix = analyses.count > 1 ? "d\(d)" : "report"
            let l = analysis.layers, h = analysis.heads
            let section = analyses.count > 1 ? "\(analysis.modelName) (\(analysis.dump.displayName))" : analysis.modelName
            if let induction = analysis.induction {
                let top = Set(analysis.topInduction?.heads.map { Heatmap.Cell(row: $0.layer, column: $0.head) } ?? [])
                try save(Heatmap(title: "Induction score (stripe), \(induction.sequences) probe sequences", values: induction.stripe,
                                 rows: l, columns: h, valueLabel: "induction_stripe", highlighted: top, highlightLabel: "top \(analysis.topCount)"),
                         fileName(prefix, "induction"), section: section,
                         caption: "Induction score of every head: mean attention from the second repeat of a random sequence to the token after the previous occurrence (Olsson et al.); outlined: the top heads.")
            }
            // Accuracy per variant, tasks side by side.
            let tasks = Array(Set(analysis.sets.map(\.info.task))).sorted()
            let variants = Array(Set(analysis.sets.map(\.info.variant))).sorted { variantOrder($0) < variantOrder($1) }
            let categories = tasks.map { task in
                BarChart.Category(name: task, bars: variants.map { variant in
                    guard let set = analysis.sets.first(where: { $0.info.task == task && $0.info.variant == variant }) else {
                        return BarChart.Bar(value: .nan)
                    }
                    let m = set.behaviour.accuracy
                    return BarChart.Bar(value: m.value, lower: m.interval?.lower, upper: m.interval?.upper)
                })
            }
            try save(BarChart(title: "Accuracy per prompt variant", valueLabel: "top-1 accuracy (full vocabulary)",
                              seriesNames: variants, categories: categories),
                     fileName(prefix, "accuracy_variants"), section: section,
                     caption: "Share of prompts whose full-vocabulary top prediction is the gold answer's first token, per task and prompt variant, with Wilson 95% intervals.")
            for score in ["tr_score", "tl_score"] {
                let (names, values) = ReportCorrelations.consistency(analysis, score: score)
                guard names.count > 1 else { continue }
                try save(Heatmap(title: "Cross-task consistency of \(score == "tr_score" ? "TR" : "TL") scores (Spearman)", values: values,
                                 rows: names.count, columns: names.count, rowAxisName: "set", columnAxisName: "set", valueLabel: "Spearman"),
                         fileName(prefix, "consistency", score), section: section,
                         caption: "Spearman correlation of per-head \(score) vectors between the clean sets (rows and columns in order: \(names.joined(separator: ", "))).")
            }
            for set in analysis.sets {
                let s = set.scores, name = set.info.name
                let trTop = Set(set.topTR.heads.map { Heatmap.Cell(row: $0.layer, column: $0.head) })
                let tlTop = Set(set.topTL.heads.map { Heatmap.Cell(row: $0.layer, column: $0.head) })
                let setSection = "\(section): \(name)"
                try save(Heatmap(title: "TR score, \(name)", values: s.meanTR, rows: l, columns: h, valueLabel: "tr_score",
                                 highlighted: trTop, highlightLabel: "top TR"),
                         fileName(prefix, name, "tr"), section: setSection,
                         caption: "Task-recognition score ||P a_h|| of every head at the answer position, mean over \(s.prompts) prompts; outlined: the top \(analysis.topCount).")
                try save(Heatmap(title: "TL score, \(name)", values: s.meanTL, rows: l, columns: h, valueLabel: "tl_score",
                                 highlighted: tlTop, highlightLabel: "top TL"),
                         fileName(prefix, name, "tl"), section: setSection,
                         caption: "Task-learning score: each head's push from the wrong labels toward the gold one per unit of its task-subspace norm; outlined: the top \(analysis.topCount).")
                try save(Heatmap(title: "Direct logit attribution to the gold label, \(name)", values: s.meanDLAGold, rows: l, columns: h,
                                 valueLabel: "dla_gold"),
                         fileName(prefix, name, "dla"), section: setSection,
                         caption: "Each head's direct contribution to the gold label's logit through the frozen final-norm scale, mean over prompts.")
                let tr = s.meanTR, tl = s.meanTL
                let points = (0..<s.headCount).map { j -> ScatterPlot.Point in
                    let id = HeadID(index: j, heads: h)
                    let group = set.topTR.heads.contains(id) ? (set.topTL.heads.contains(id) ? "both" : "top TR")
                        : (set.topTL.heads.contains(id) ? "top TL" : "other")
                    return ScatterPlot.Point(x: tr[j], y: tl[j], group: group, label: group == "other" ? nil : id.description)
                }
                try save(ScatterPlot(title: "TR vs TL, \(name)", xLabel: "tr_score", yLabel: "tl_score", points: points,
                                     backgroundGroups: ["other"]),
                         fileName(prefix, name, "tr_tl"), section: setSection,
                         caption: "Every head's TR score against its TL score; the top sets are coloured and labelled.")
                let alignment = SetScores.columnMeans(s.alignment, prompts: s.prompts, width: l + 1)
                let difference = SetScores.columnMeans(s.logitDifference, prompts: s.prompts, width: l + 1)
                try save(LineChart(title: "Residual stream geometry, \(name)", xLabel: "residual stream (resid_pre of layer; last = final)",
                                   yLabel: "alignment ||Ph||/||h||", x: (0...l).map(Double.init),
                                   series: [LineChart.Series(name: "alignment", values: alignment)]),
                         fileName(prefix, name, "alignment"), section: setSection,
                         caption: "Alignment of the answer position's residual stream with the task subspace, per layer.")
                var series = [LineChart.Series(name: "logit difference", values: difference)]
                for contribution in set.geometry {
                    series.append(LineChart.Series(name: "\(contribution.headSet) heads' Δ logit difference",
                                                   values: [.nan] + contribution.logitDifference))
                }
                try save(LineChart(title: "Gold-vs-wrong logit difference, \(name)", xLabel: "residual stream", yLabel: "logit difference",
                                   x: (0...l).map(Double.init), series: series),
                         fileName(prefix, name, "logit_difference"), section: setSection,
                         caption: "Mean gold-vs-wrong-label logit difference of the residual stream per layer, and the part added by the top TR and TL heads of each layer (plotted at the layer's output).")
                let random = set.ablation.filter { $0.kind == "random" }
                let named = set.ablation.filter { $0.kind == "named" || $0.kind == "file" }
                let baseline = set.ablation.first { $0.kind == "baseline" }?.labelAccuracy ?? .nan
                let modes = ["zero", "mean"]
                let ablationCategories = Array(Set(named.map(\.headSet))).sorted().map { headSet in
                    BarChart.Category(name: headSet, bars: modes.map { mode in
                        BarChart.Bar(value: named.first { $0.headSet == headSet && $0.mode == mode }?.labelAccuracy ?? .nan)
                    }, reference: random.filter { $0.mode == "mean" }.map(\.labelAccuracy))
                } + [BarChart.Category(name: "none", bars: [BarChart.Bar(value: baseline), BarChart.Bar(value: baseline)])]
                try save(BarChart(title: "Ablation estimates (direct effect), \(name)", valueLabel: "label-restricted accuracy",
                                  seriesNames: ["zero ablation", "mean ablation"], categories: ablationCategories,
                                  referenceName: "\(random.count / 2) random head sets (mean ablation)"),
                         fileName(prefix, name, "ablation"), section: setSection,
                         caption: "Estimated label-restricted accuracy when the head set's direct contributions at the answer position are removed or replaced by their leave-one-out mean, with the final norm recomputed; boxes: the random head sets of the same size. Direct effects only: no downstream head sees the change.")
                try InterventionFigures.write(analysis, set, prefix: prefix, section: setSection) { figure, file, section, caption in
                    try save(figure, file, section: section, caption: caption)
                }
                try ComparisonFigures.write(analysis, set, prefix: prefix, section: setSection) { figure, file, section, caption in
                    try save(figure, file, section: section, caption: caption)
                }
            }
        }
        if analyses.count > 1 {
            let depth = ReportCorrelations.depth(analyses)
            for score in ["tr_score", "tl_score", "induction_stripe"] {
                let series = analyses.map { analysis in
                    LineChart.Series(name: analysis.modelName, values: depth.rows.filter {
                        $0[0] == .text(analysis.dump.displayName) && $0[2] == .text(score)
                    }.map { if case .number(let v) = $0[6] { return v } else { return .nan } })
                }
                try save(LineChart(title: "\(score) by layer depth", xLabel: "depth (tenth of the model)", yLabel: "mean \(score)",
                                   x: (0..<ReportCorrelations.depthBins).map { (Double($0) + 0.5) / Double(ReportCorrelations.depthBins) },
                                   series: series),
                         fileName("compare", score), section: "Models compared by depth",
                         caption: "Mean \(score) of the heads in each tenth of each model's depth (layer / (layers - 1)).")
            }
        }
        return written
    }

    /// The exact interventions' tables, when any dump holds a run this analyzer reads.
    static func interventionSection(_ analyses: [DumpAnalysis], tables: [(String, CSVTable)]) -> HTMLReport.Section? {
        let runs = analyses.flatMap(\.interventions)
        guard !runs.isEmpty else { return nil }
        func table(_ name: String, _ caption: String, keep: ([CSVValue]) -> Bool = { _ in true }) -> HTMLReport.Table? {
            guard let found = tables.first(where: { $0.0 == name })?.1 else { return nil }
            let kept = CSVTable(header: found.header, rows: found.rows.filter(keep))
            return kept.rows.isEmpty ? nil : HTMLReport.Table(caption: caption, table: kept, maxRows: 40, csvFile: name)
        }
        let scope = InterventionTables.truthHeader.firstIndex(of: "scope")!
        let shown = [
            table("estimate_vs_truth.csv", "Direct-effect and attribution-patching estimates (analyzer, from the dump) against the exact total effect (model) over all prompts and head sets of each run, over the head sets' means, and for the CIE over the heads (estimate_vs_truth.csv; per head set there, per prompt in estimate_vs_truth_prompts.csv)") {
                $0[scope] != .text("head_set")
            },
            table("ablation_exact.csv", "Exact ablations through the model: behaviour per head set and its change from the unablated model, with the random head sets' spread (ablation_exact.csv)") {
                $0[5] != .text("random")
            },
            table("overlap.csv", "Overlap of the top TR, TL, induction and FV sets (overlap.csv)"),
        ].compactMap { $0 } + ComparisonFigures.tables(tables)
        let listed = runs.map { run in
            "\(run.name) (\(run.storedKind)\(run.mode.map { ", \($0)" } ?? "")\(run.positions.map { " at \($0)" } ?? "")\(run.kind == nil ? "; not read: unknown kind" : ""))"
        }
        return HTMLReport.Section(heading: "Exact interventions",
                                  paragraphs: ["Runs of icl-capture intervene in the dumps: " + listed.joined(separator: "; ") + ". The analyzer's ablation estimates are direct effects (docs/methods.md §5) and, from a dump's gradients, first-order total effects (attribution patching, §20); the runs' results are total effects through the model (§14); they are compared in §18 and §20."],
                                  tables: shown)
    }

    static func variantOrder(_ variant: String) -> Int {
        ["clean", "shuffled_labels", "random_labels", "abstract_labels", "zero_shot"].firstIndex(of: variant) ?? 9
    }

    static func page(_ analyses: [DumpAnalysis], figures: Written, tables: [(String, CSVTable)], perPromptFiles: [String]) -> HTMLReport {
        var sections: [HTMLReport.Section] = []
        var order: [String] = []
        for (section, _) in figures.figures where !order.contains(section) { order.append(section) }
        let setTables = tables.filter { ["sets.csv", "variants.csv"].contains($0.0) }.map { name, table in
            HTMLReport.Table(caption: name == "sets.csv" ? "Behaviour per set with 95% intervals (sets.csv)"
                                                         : "Each task's prompt variants side by side (variants.csv)",
                             table: table, maxRows: 40, csvFile: name)
        }
        sections.append(HTMLReport.Section(heading: "Prompt sets", tables: setTables))
        if let section = interventionSection(analyses, tables: tables) { sections.append(section) }
        for section in order {
            sections.append(HTMLReport.Section(heading: section, figures: figures.figures.filter { $0.section == section }.map(\.figure)))
        }
        let files = tables.map { "\($0.0)" }.joined(separator: ", ")
        var paragraphs = ["Dumps: " + analyses.map { "\($0.dump.displayName) (\($0.modelName))" }.joined(separator: "; ") + ".",
                          "Tables: \(files); definitions and top sets: summary.json. Every score is defined in docs/methods.md."]
        if !perPromptFiles.isEmpty {
            paragraphs.append("Per-prompt values of every head: \(PerPromptTables.folder)/ (\(perPromptFiles.count) files, one per set; listed in summary.json).")
        }
        return HTMLReport(title: "icl-analyze report", paragraphs: paragraphs, sections: sections)
    }
}
