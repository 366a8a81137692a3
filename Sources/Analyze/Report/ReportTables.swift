import Foundation
import Shared

/// The report's CSV tables, built from the analyses of one or more dumps.
enum ReportTables {
    static func number(_ value: Double?) -> CSVValue { value.map { .number($0) } ?? .missing }

    /// The attention categories in the order of heads.csv's and the per-prompt tables' columns.
    static let attentionColumns: [KeyCategory] = [.demoOutputs, .demoInputs, .query, .template, .special]

    /// heads.csv: one row per dump x set x layer x head.
    static func heads(_ analyses: [DumpAnalysis]) -> CSVTable {
        let categories = KeyCategory.allCases
        var header = ["set", "task", "variant", "shots", "layer", "head", "tr_score", "tl_score", "tl_undefined_prompts",
                      "dla_gold", "dla_margin"]
        header += attentionColumns.map(\.column)
        header += ["induction_stripe", "induction_mul", "prev_token", "top_tr", "top_tl"]
        for score in ["tr", "tl", "dla_gold", "dla_margin"] + attentionColumns.map(\.column) {
            header += ["\(score)_ci_low", "\(score)_ci_high"]
        }
        header += ["top_tr_frequency", "top_tl_frequency", "top_dla_gold_frequency", "cie_exact", "cie_atp", "fv_score", "top_fv", "dump"]
        var rows: [[CSVValue]] = []
        for analysis in analyses {
            for set in analysis.sets {
                let s = set.scores, n = s.headCount
                let tr = s.meanTR, tl = s.meanTL, gold = s.meanDLAGold, margin = s.meanDLAMargin
                let attention = s.meanAttention, undefined = s.undefinedTL
                let topTR = Set(set.topTR.heads), topTL = Set(set.topTL.heads)
                let fv = analysis.functionVector, topFV = Set(fv?.top.heads ?? [])
                let cie = set.exactCIE?.meanCIE, cieAttribution = set.attribution.cie
                for j in 0..<n {
                    let id = HeadID(index: j, heads: analysis.heads)
                    var row: [CSVValue] = [.text(set.info.name), .text(set.info.task), .text(set.info.variant), .int(set.info.shots),
                                           .int(id.layer), .int(id.head), .number(tr[j]), .number(tl[j]), .int(undefined[j]),
                                           .number(gold[j]), .number(margin[j])]
                    for category in attentionColumns {
                        row.append(.number(attention[j * categories.count + category.rawValue]))
                    }
                    row += [number(analysis.induction?.stripe[j]), number(analysis.induction?.detectHeadMul[j]),
                            number(analysis.induction?.previousToken[j]),
                            .int(topTR.contains(id) ? 1 : 0), .int(topTL.contains(id) ? 1 : 0)]
                    func interval(_ bootstrap: HeadBootstrap, _ column: Int) -> [CSVValue] {
                        [number(bootstrap.intervals[column]?.lower), number(bootstrap.intervals[column]?.upper)]
                    }
                    row += interval(set.trBootstrap, j) + interval(set.tlBootstrap, j)
                        + interval(set.dlaGoldBootstrap, j) + interval(set.dlaMarginBootstrap, j)
                    for category in attentionColumns {
                        row += interval(set.attentionBootstrap, j * categories.count + category.rawValue)
                    }
                    row += [.number(set.trBootstrap.topFrequency[j]), .number(set.tlBootstrap.topFrequency[j]),
                            .number(set.dlaGoldBootstrap.topFrequency[j]), number(cie?[j]), number(cieAttribution?[j]), number(fv?.aie[j]),
                            fv == nil ? .missing : .int(topFV.contains(id) ? 1 : 0), .text(analysis.dump.displayName)]
                    rows.append(row)
                }
            }
        }
        return CSVTable(header: header, rows: rows)
    }

    /// sets.csv: behaviour per set, variants of one task side by side through the columns.
    static func sets(_ analyses: [DumpAnalysis]) -> CSVTable {
        let header = ["set", "task", "variant", "shots", "template", "task_kind", "label_space", "labels", "prompts",
                      "accuracy", "accuracy_ci_low", "accuracy_ci_high", "label_set_ratio", "label_set_ratio_ci_low",
                      "label_set_ratio_ci_high", "label_accuracy", "label_accuracy_ci_low", "label_accuracy_ci_high",
                      "mean_gold_prob", "mean_gold_prob_ci_low", "mean_gold_prob_ci_high", "mean_gold_logprob",
                      "component_max_error", "dump"]
        var rows: [[CSVValue]] = []
        for analysis in analyses {
            for set in analysis.sets {
                let b = set.behaviour, info = set.info
                func measure(_ m: SetBehaviour.Measure?) -> [CSVValue] {
                    [number(m?.value), number(m?.interval?.lower), number(m?.interval?.upper)]
                }
                rows.append([.text(info.name), .text(info.task), .text(info.variant), .int(info.shots), .text(info.template),
                             .text(info.kind.rawValue), .text(set.scores.space.source.rawValue),
                             .text(set.scores.space.tokens.map { analysis.weights.text(of: $0) }.joined(separator: "|")),
                             .int(set.scores.prompts)]
                            + measure(b.accuracy) + measure(b.labelSetRatio) + measure(b.labelAccuracy)
                            + measure(b.meanGoldProbability)
                            + [.number(b.meanGoldLogprob), .number(Double(set.scores.componentError)), .text(analysis.dump.displayName)])
            }
        }
        return CSVTable(header: header, rows: rows)
    }

    static let variants = ["clean", "shuffled_labels", "random_labels", "abstract_labels", "zero_shot"]

    /// variants.csv: one row per task and template, each variant's behaviour side by side
    /// (zero-shot sets pair with every shot count).
    static func variants(_ analyses: [DumpAnalysis]) -> CSVTable {
        var header = ["task", "template", "shots"]
        for variant in variants { header += ["\(variant)_accuracy", "\(variant)_label_accuracy", "\(variant)_label_set_ratio"] }
        header.append("dump")
        var rows: [[CSVValue]] = []
        for analysis in analyses {
            var keys: [(String, String, Int)] = []
            for set in analysis.sets where set.info.variant != "zero_shot" {
                let key = (set.info.task, set.info.template, set.info.shots)
                if !keys.contains(where: { $0 == key }) { keys.append(key) }
            }
            for (task, template, shots) in keys {
                var row: [CSVValue] = [.text(task), .text(template), .int(shots)]
                for variant in variants {
                    let set = analysis.sets.first {
                        $0.info.task == task && $0.info.template == template && $0.info.variant == variant
                            && (variant == "zero_shot" || $0.info.shots == shots)
                    }
                    row += [number(set?.behaviour.accuracy.value), number(set?.behaviour.labelAccuracy.value),
                            number(set?.behaviour.labelSetRatio?.value)]
                }
                row.append(.text(analysis.dump.displayName))
                rows.append(row)
            }
        }
        return CSVTable(header: header, rows: rows)
    }

    /// components.csv: direct effect of the embedding, each layer's attention heads (summed),
    /// attention bias and MLP on the gold logit and margin.
    static func components(_ analyses: [DumpAnalysis]) -> CSVTable {
        var rows: [[CSVValue]] = []
        for analysis in analyses {
            for set in analysis.sets {
                let s = set.scores, l = s.layers
                let embedding = SetScores.columnMeans(s.embedding, prompts: s.prompts, width: 2)
                let bias = SetScores.columnMeans(s.attentionBias, prompts: s.prompts, width: l * 2)
                let mlp = SetScores.columnMeans(s.mlp, prompts: s.prompts, width: l * 2)
                let gold = s.meanDLAGold, margin = s.meanDLAMargin
                rows.append([.text(set.info.name), .text("embedding"), .missing, .number(embedding[0]), .number(embedding[1]), .text(analysis.dump.displayName)])
                for layer in 0..<l {
                    let heads = (0..<s.heads).map { layer * s.heads + $0 }
                    rows.append([.text(set.info.name), .text("attention_heads"), .int(layer),
                                 .number(heads.reduce(0) { $0 + gold[$1] }), .number(heads.reduce(0) { $0 + margin[$1] }), .text(analysis.dump.displayName)])
                    rows.append([.text(set.info.name), .text("attention_bias"), .int(layer), .number(bias[layer * 2]), .number(bias[layer * 2 + 1]), .text(analysis.dump.displayName)])
                    rows.append([.text(set.info.name), .text("mlp"), .int(layer), .number(mlp[layer * 2]), .number(mlp[layer * 2 + 1]), .text(analysis.dump.displayName)])
                }
            }
        }
        return CSVTable(header: ["set", "component", "layer", "dla_gold", "dla_margin", "dump"], rows: rows)
    }

    /// geometry.csv: per set and stored residual layer.
    static func geometry(_ analyses: [DumpAnalysis]) -> CSVTable {
        var rows: [[CSVValue]] = []
        for analysis in analyses {
            for set in analysis.sets {
                let s = set.scores, l = s.layers
                let alignment = SetScores.columnMeans(s.alignment, prompts: s.prompts, width: l + 1)
                let difference = SetScores.columnMeans(s.logitDifference, prompts: s.prompts, width: l + 1)
                let tr = set.geometry.first { $0.headSet == "top_tr" }, tl = set.geometry.first { $0.headSet == "top_tl" }
                for r in 0...l {
                    let isLayer = r < l
                    rows.append([.text(set.info.name), .int(r), .number(alignment[r]), .number(difference[r]),
                                 isLayer ? .number(alignment[r + 1] - alignment[r]) : .missing,
                                 isLayer ? .number(difference[r + 1] - difference[r]) : .missing,
                                 isLayer ? number(tr?.alignment[r]) : .missing, isLayer ? number(tl?.alignment[r]) : .missing,
                                 isLayer ? number(tr?.logitDifference[r]) : .missing, isLayer ? number(tl?.logitDifference[r]) : .missing,
                                 .text(analysis.dump.displayName)])
                }
            }
        }
        return CSVTable(header: ["set", "resid_layer", "alignment", "logit_difference", "d_alignment", "d_logit_difference",
                                 "top_tr_alignment", "top_tl_alignment", "top_tr_logit_difference", "top_tl_logit_difference", "dump"],
                        rows: rows)
    }

    /// ablation.csv: one row per set x head set x mode, and each set's unablated baseline; for
    /// every gradient metric of the dumps, the attribution-patching estimates of the same
    /// replacement at the answer position and at every position (§20), named by the metric.
    static func ablation(_ analyses: [DumpAnalysis]) -> CSVTable {
        let metrics = GradientMetric.allCases.filter { metric in analyses.contains { $0.gradientMetric == metric } }
        var rows: [[CSVValue]] = []
        for analysis in analyses {
            for set in analysis.sets {
                for e in set.ablation {
                    let attribution = metrics.flatMap { metric -> [CSVValue] in
                        analysis.gradientMetric == metric && e.mode != "none"
                            ? [number(e.attributionAnswer), number(e.attributionAllPositions)] : [.missing, .missing]
                    }
                    rows.append([.text(set.info.name), .text(e.headSet), .text(e.kind), .int(e.size), .text(e.mode), .text("answer"),
                                 .int(e.prompts), .number(e.goldLogit), .number(e.goldLogprobLabels), .number(e.labelAccuracy),
                                 number(e.goldLogprobVocab), number(e.accuracy), number(e.labelSetRatio)]
                                + attribution + [.text(analysis.dump.displayName)])
                }
            }
        }
        return CSVTable(header: ["set", "head_set", "kind", "size", "mode", "position", "prompts", "gold_logit",
                                 "gold_logprob_labels", "label_accuracy", "gold_logprob_vocab", "accuracy", "label_set_ratio"]
                            + metrics.flatMap { ["atp_delta_\($0.column)_answer", "atp_delta_\($0.column)_all"] } + ["dump"],
                        rows: rows)
    }
}
