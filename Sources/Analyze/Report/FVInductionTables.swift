import Foundation
import Shared

/// fv_vs_induction.csv (docs/methods.md §21.3): per run, set, family and k, the ablated model's
/// accuracy, generation F1 and gold log-probability, their change from "none", and the random
/// sets' mean, 5th and 95th percentile at that k.
enum FVInductionTables {
    static let header = ["set", "intervention", "family", "percent", "head_set", "size", "heads", "prompts"]
        + ["accuracy", "mean_f1", "mean_gold_logprob"].flatMap(SteeringTables.withInterval)
        + ["delta_accuracy", "delta_f1", "delta_gold_logprob", "random_sets", "random_accuracy_mean", "random_accuracy_p05",
           "random_accuracy_p95", "random_f1_mean", "random_f1_p05", "random_f1_p95", "random_delta_gold_logprob_mean",
           "random_delta_gold_logprob_p05", "random_delta_gold_logprob_p95", "dump"]

    /// One row for "none", one per named head set, and one per k for the random sets (their
    /// means; head_set names how many).
    static func table(_ analyses: [DumpAnalysis]) -> CSVTable {
        var rows: [[CSVValue]] = []
        func number(_ value: Double?) -> CSVValue { InterventionTables.number(value) }
        for analysis in analyses {
            for summary in analysis.comparisons.fvVsInduction {
                let run = summary.results.exact.run.name, prompts = summary.results.exact.prompts
                func spreads(_ percent: Double) -> [CSVValue] {
                    let accuracy = summary.randomSpread(percent: percent) { $0.accuracy.value }
                    let f1 = summary.randomSpread(percent: percent) { $0.meanF1.value }
                    let logprob = summary.randomSpread(percent: percent) { $0.deltaGoldLogprob }
                    return [accuracy.map { .int($0.sets) } ?? .missing, number(accuracy?.mean), number(accuracy?.p05), number(accuracy?.p95),
                            number(f1?.mean), number(f1?.p05), number(f1?.p95), number(logprob?.mean), number(logprob?.p05), number(logprob?.p95)]
                }
                for row in summary.rows where row.family != HeadSetFamily.random {
                    rows.append([.text(summary.set), .text(run), .text(row.family), .number(row.percent), .text(row.headSet.name),
                                 .int(row.headSet.heads.count), InterventionTables.heads(row.headSet), .int(prompts)]
                                + SteeringTables.measure(row.accuracy) + SteeringTables.measure(row.meanF1)
                                + SteeringTables.measure(row.meanGoldLogprob)
                                + [.number(row.deltaAccuracy), .number(row.deltaF1), .number(row.deltaGoldLogprob)]
                                + (row.family == "none" ? Array(repeating: .missing, count: 10) : spreads(row.percent))
                                + [.text(analysis.dump.displayName)])
                }
                for percent in summary.results.families.distinctPercents {
                    let random = summary.rows.filter { $0.family == HeadSetFamily.random && $0.percent == percent }
                    guard !random.isEmpty else { continue }
                    func mean(_ value: (FVInductionSummary.Row) -> Double) -> CSVValue { .number(random.map(value).reduce(0, +) / Double(random.count)) }
                    rows.append([.text(summary.set), .text(run), .text(HeadSetFamily.random), .number(percent),
                                 .text("\(random.count) random sets"), .int(random[0].headSet.heads.count), .missing, .int(prompts),
                                 mean { $0.accuracy.value }, .missing, .missing, mean { $0.meanF1.value }, .missing, .missing,
                                 mean { $0.meanGoldLogprob.value }, .missing, .missing,
                                 mean(\.deltaAccuracy), mean(\.deltaF1), mean(\.deltaGoldLogprob)]
                                + spreads(percent) + [.text(analysis.dump.displayName)])
                }
            }
        }
        return CSVTable(header: header, rows: rows)
    }
}
