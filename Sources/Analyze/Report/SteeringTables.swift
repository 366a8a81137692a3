import Foundation
import Shared

/// The report's tables of steering runs (docs/methods.md §21.1, §21.2): steering.csv, the
/// behaviour per vector, layer and prompt scope against "none" and the random vectors' spread;
/// steering_estimate.csv, the first-order estimate v · dM/dresid against the exact change.
enum SteeringTables {
    static func measure(_ m: SetBehaviour.Measure?) -> [CSVValue] {
        guard let m else { return [.missing, .missing, .missing] }
        return [.number(m.value), InterventionTables.number(m.interval?.lower), InterventionTables.number(m.interval?.upper)]
    }

    static func withInterval(_ name: String) -> [String] { [name, name + "_ci_low", name + "_ci_high"] }

    static let header = ["set", "intervention", "vector", "family", "layer", "scope", "prompts", "vector_norm"]
        + ["accuracy", "label_set_ratio", "label_accuracy", "mean_gold_logprob",
           "delta_accuracy", "delta_label_set_ratio", "delta_label_accuracy", "delta_gold_logprob"].flatMap(withInterval)
        + ["random_vectors", "random_accuracy_mean", "random_accuracy_p05", "random_accuracy_p95",
           "random_delta_gold_logprob_mean", "random_delta_gold_logprob_p05", "random_delta_gold_logprob_p95", "dump"]

    /// steering.csv: one row per run, set, vector, layer and scope (outside_scoring: the prompts
    /// whose query is not one the vector was computed from; all_prompts).
    static func steering(_ analyses: [DumpAnalysis]) -> CSVTable {
        var rows: [[CSVValue]] = []
        for analysis in analyses {
            for summary in analysis.comparisons.steering {
                let vectors = summary.results.vectors
                for row in summary.rows {
                    let family = vectors.families[row.vector]
                    let compare = family != HeadSetFamily.random
                    let accuracy = compare ? summary.randomSpread(layer: row.layer, scope: row.scope, { $0.accuracy.value }) : nil
                    let logprob = compare ? summary.randomSpread(layer: row.layer, scope: row.scope, { $0.deltaGoldLogprob.value }) : nil
                    rows.append([.text(summary.set), .text(summary.results.run.name), .text(vectors.names[row.vector]), .text(family),
                                 .int(vectors.layers[row.layer]), .text(row.scope.rawValue), .int(row.prompts), .number(vectors.norm(row.vector))]
                                + measure(row.accuracy) + measure(row.labelSetRatio) + measure(row.labelAccuracy) + measure(row.meanGoldLogprob)
                                + measure(row.deltaAccuracy) + measure(row.deltaLabelSetRatio) + measure(row.deltaLabelAccuracy)
                                + measure(row.deltaGoldLogprob)
                                + [accuracy.map { .int($0.sets) } ?? .missing, InterventionTables.number(accuracy?.mean),
                                   InterventionTables.number(accuracy?.p05), InterventionTables.number(accuracy?.p95),
                                   InterventionTables.number(logprob?.mean), InterventionTables.number(logprob?.p05),
                                   InterventionTables.number(logprob?.p95), .text(analysis.dump.displayName)])
                }
            }
        }
        return CSVTable(header: header, rows: rows)
    }

    /// steering_estimate.csv: per run, set and metric, the agreement of the first-order estimate
    /// with the exact change for each vector at each layer (scope vector_layer, over the set's
    /// prompts) and over every (vector, layer, prompt) triple (all_pairs).
    static func estimate(_ analyses: [DumpAnalysis]) -> CSVTable {
        let header = ["set", "intervention", "metric", "scope", "vector", "family", "layer", "pairs", "mean_first_order_estimate",
                      "mean_exact_change", "pearson", "spearman", "sign_agreement", "worst_vector", "worst_layer", "worst_prompt_index",
                      "worst_first_order_estimate", "worst_exact_change", "dump"]
        var rows: [[CSVValue]] = []
        for analysis in analyses {
            for estimate in analysis.comparisons.steeringEstimates {
                let vectors = estimate.results.vectors
                let promptIndex = analysis.sets.first { $0.info.name == estimate.set }!.scores.rows.promptIndex
                let p = estimate.results.done.count
                func row(_ scope: String, vector: Int?, layer: Int?, _ agreement: Agreement, worst: (vector: Int, layer: Int, prompt: Int),
                         _ x: Double, _ y: Double) -> [CSVValue] {
                    [.text(estimate.set), .text(estimate.results.run.name), .text(estimate.metric), .text(scope),
                     vector.map { .text(vectors.names[$0]) } ?? .missing, vector.map { .text(vectors.families[$0]) } ?? .missing,
                     layer.map { .int(vectors.layers[$0]) } ?? .missing, .int(agreement.pairs), .number(agreement.meanEstimate),
                     .number(agreement.meanExact), InterventionTables.number(agreement.pearson), InterventionTables.number(agreement.spearman),
                     .number(agreement.signAgreement), .text(vectors.names[worst.vector]), .int(vectors.layers[worst.layer]),
                     .int(Int(promptIndex[worst.prompt])), .number(x), .number(y), .text(analysis.dump.displayName)]
                }
                var all: (estimate: [Double], exact: [Double], owner: [(Int, Int, Int)]) = ([], [], [])
                for vector in 1..<vectors.count {
                    for layer in vectors.layers.indices {
                        let pairs = estimate.pairs(vector: vector, layer: layer)
                        all.estimate += pairs.estimate
                        all.exact += pairs.exact
                        all.owner += (0..<p).map { (vector, layer, $0) }
                        guard let agreement = Agreement(estimate: pairs.estimate, exact: pairs.exact) else { continue }
                        rows.append(row("vector_layer", vector: vector, layer: layer, agreement, worst: (vector, layer, agreement.worst),
                                        pairs.estimate[agreement.worst], pairs.exact[agreement.worst]))
                    }
                }
                if let agreement = Agreement(estimate: all.estimate, exact: all.exact) {
                    let owner = all.owner[agreement.worst]
                    rows.append(row("all_pairs", vector: nil, layer: nil, agreement, worst: (owner.0, owner.1, owner.2),
                                    all.estimate[agreement.worst], all.exact[agreement.worst]))
                }
            }
        }
        return CSVTable(header: header, rows: rows)
    }
}
