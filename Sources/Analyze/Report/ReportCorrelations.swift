import Foundation
import Shared

/// Per-head score vectors and how they relate (docs/methods.md §12): within a set, across
/// tasks, between clean and corrupted variants, along the layers (geometry), and across models
/// by depth.
enum ReportCorrelations {
    /// The per-head score vectors of a set, by the column names heads.csv uses.
    static func vectors(_ set: SetAnalysis, _ analysis: DumpAnalysis) -> [(String, [Double])] {
        let s = set.scores, c = KeyCategory.allCases.count, attention = s.meanAttention
        var result: [(String, [Double])] = [("tr_score", s.meanTR), ("tl_score", s.meanTL), ("dla_gold", s.meanDLAGold),
                                            ("dla_margin", s.meanDLAMargin)]
        result.append(("attn_demo_outputs", (0..<s.headCount).map { attention[$0 * c + KeyCategory.demoOutputs.rawValue] }))
        result.append(("attn_query", (0..<s.headCount).map { attention[$0 * c + KeyCategory.query.rawValue] }))
        if let induction = analysis.induction {
            result += [("induction_stripe", induction.stripe), ("induction_mul", induction.detectHeadMul), ("prev_token", induction.previousToken)]
        }
        return result
    }

    /// One named score vector of a set (NaN for every head when the dump has no such score).
    static func vector(_ set: SetAnalysis, _ analysis: DumpAnalysis, _ score: String) -> [Double] {
        vectors(set, analysis).first { $0.0 == score }?.1 ?? Array(repeating: .nan, count: set.scores.headCount)
    }

    static let withinSetPairs = [("tr_score", "tl_score"), ("tr_score", "induction_stripe"), ("tl_score", "induction_stripe"),
                                 ("tr_score", "dla_gold"), ("tl_score", "dla_margin"), ("induction_stripe", "induction_mul"),
                                 ("tr_score", "attn_demo_outputs"), ("tl_score", "attn_query")]

    static func row(dump: String, scope: String, a: String, b: String, _ x: [Double], _ y: [Double], top: Int) -> [CSVValue] {
        let topX = Set(Ranking.topIndices(x, count: top)), topY = Set(Ranking.topIndices(y, count: top))
        let n = zip(x, y).filter { !$0.0.isNaN && !$0.1.isNaN }.count
        return [.text(dump), .text(scope), .text(a), .text(b), .int(n), ReportTables.number(Correlation.pearson(x, y)),
                ReportTables.number(Correlation.spearman(x, y)), ReportTables.number(Correlation.kendallTauB(x, y)),
                .number(Overlap.jaccard(topX, topY))]
    }

    static func table(_ analyses: [DumpAnalysis]) -> CSVTable {
        var rows: [[CSVValue]] = []
        for analysis in analyses {
            let name = analysis.dump.displayName, k = analysis.topCount
            for set in analysis.sets {
                let vectors = Dictionary(vectors(set, analysis), uniquingKeysWith: { a, _ in a })
                for (a, b) in withinSetPairs {
                    guard let x = vectors[a], let y = vectors[b] else { continue }
                    rows.append(row(dump: name, scope: set.info.name, a: a, b: b, x, y, top: k))
                }
                // Geometry: does each head set move the quantity its score says it should?
                let s = set.scores, l = s.layers
                let alignment = SetScores.columnMeans(s.alignment, prompts: s.prompts, width: l + 1)
                let difference = SetScores.columnMeans(s.logitDifference, prompts: s.prompts, width: l + 1)
                let dA = (0..<l).map { alignment[$0 + 1] - alignment[$0] }, dLD = (0..<l).map { difference[$0 + 1] - difference[$0] }
                for contribution in set.geometry {
                    let label = contribution.headSet == "top_tr" ? "top_tr" : "top_tl"
                    for (quantity, total, part) in [("d_alignment", dA, contribution.alignment), ("d_logit_difference", dLD, contribution.logitDifference)] {
                        rows.append([.text(name), .text(set.info.name + " (layers)"), .text(quantity), .text("\(label)_\(quantity.dropFirst(2))"),
                                     .int(l), ReportTables.number(Correlation.pearson(total, part)),
                                     ReportTables.number(Correlation.spearman(total, part)),
                                     ReportTables.number(Correlation.kendallTauB(total, part)), .missing])
                    }
                }
            }
            // Across tasks (clean sets) and clean against each corrupted variant of a task.
            let clean = analysis.sets.filter { $0.info.variant == "clean" }
            for score in ["tr_score", "tl_score"] {
                for (i, a) in clean.enumerated() {
                    for b in clean[(i + 1)...] where a.info.task != b.info.task {
                        let x = vector(a, analysis, score), y = vector(b, analysis, score)
                        rows.append(row(dump: name, scope: "\(a.info.name) vs \(b.info.name)", a: score, b: score, x, y, top: k))
                    }
                    for other in analysis.sets where other.info.task == a.info.task && other.info.variant != "clean"
                        && other.info.template == a.info.template && (other.info.shots == a.info.shots || other.info.variant == "zero_shot") {
                        let x = vector(a, analysis, score), y = vector(other, analysis, score)
                        rows.append(row(dump: name, scope: "\(a.info.name) vs \(other.info.name)", a: score, b: score, x, y, top: k))
                    }
                }
            }
        }
        return CSVTable(header: ["dump", "scope", "score_a", "score_b", "n", "pearson", "spearman", "kendall_tau_b", "jaccard_top"],
                        rows: rows)
    }

    /// The cross-task consistency matrix of one score over the clean sets: Spearman of the
    /// per-head vectors. [tasks x tasks] with the set names.
    static func consistency(_ analysis: DumpAnalysis, score: String) -> (names: [String], values: [Double]) {
        let clean = analysis.sets.filter { $0.info.variant == "clean" }
        let columns = clean.map { set in vector(set, analysis, score) }
        let values = columns.flatMap { x in columns.map { y in Correlation.spearman(x, y) ?? .nan } }
        return (clean.map(\.info.name), values)
    }

    static let depthBins = 10

    /// depth.csv: per dump and score, the mean over clean sets of each head's score and the share
    /// of its top heads in each tenth of the model's depth (layer / (L - 1)), so models of
    /// different depth line up.
    static func depth(_ analyses: [DumpAnalysis]) -> CSVTable {
        var rows: [[CSVValue]] = []
        for analysis in analyses {
            let l = analysis.layers, h = analysis.heads, k = analysis.topCount
            let clean = analysis.sets.filter { $0.info.variant == "clean" }
            let base = clean.isEmpty ? analysis.sets : clean
            var scores: [(String, [Double])] = []
            for name in ["tr_score", "tl_score"] {
                let all = base.map { set in vector(set, analysis, name) }
                guard !all.isEmpty else { continue }
                scores.append((name, (0..<(l * h)).map { j in all.reduce(0.0) { $0 + $1[j] } / Double(all.count) }))
            }
            if let induction = analysis.induction { scores.append(("induction_stripe", induction.stripe)) }
            for (name, values) in scores {
                let top = Set(Ranking.topIndices(values, count: k))
                for bin in 0..<depthBins {
                    let members = (0..<(l * h)).filter { j in
                        let depth = l > 1 ? Double(j / h) / Double(l - 1) : 0
                        return min(Int(depth * Double(depthBins)), depthBins - 1) == bin
                    }
                    let defined = members.map { values[$0] }.filter { !$0.isNaN }
                    rows.append([.text(analysis.dump.displayName), .text(analysis.modelName), .text(name),
                                 .number(Double(bin) / Double(depthBins)), .number(Double(bin + 1) / Double(depthBins)),
                                 .int(members.count), ReportTables.number(Summary.mean(defined)),
                                 .number(Double(members.filter { top.contains($0) }.count) / Double(max(top.count, 1)))])
                }
            }
        }
        return CSVTable(header: ["dump", "model", "score", "depth_low", "depth_high", "heads", "mean_score", "top_share"], rows: rows)
    }
}
