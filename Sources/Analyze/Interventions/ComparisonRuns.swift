import Foundation
import Shared

/// A dump's steering and FV-vs-induction runs, read per set (docs/methods.md §21): steering
/// accuracy per vector and layer, its first-order estimate where the dump holds gradients, and
/// the ablation curves of the FV, induction, TR and TL head sets against the random sets.
public struct ComparisonRuns: Sendable {
    public let steering: [SteeringSummary]
    public let steeringEstimates: [SteeringEstimate]
    /// Steering runs and sets without a first-order comparison, with the reason.
    public let steeringEstimateSkipped: [SteeringEstimate.Skipped]
    public let fvVsInduction: [FVInductionSummary]

    init(dump: ShardedDump, runs: [InterventionRun], sets: [SetAnalysis], options: AnalysisOptions) throws {
        var steering: [SteeringSummary] = [], estimates: [SteeringEstimate] = [], skipped: [SteeringEstimate.Skipped] = []
        var curves: [FVInductionSummary] = []
        let seed = SplitMix64.derive(options.seed, SplitMix64.fnv1a("interventions"))
        for run in runs {
            for name in run.sets {
                guard let set = sets.first(where: { $0.info.name == name }) else { continue }
                let rows = set.scores.rows, slots = PromptSlots(rows: rows, files: dump.files.count)
                if let vectors = run.steering {
                    let results = try SteeringResults(run: run, vectors: vectors, set: name, rows: rows, slots: slots, dump: dump)
                    steering.append(SteeringSummary(results: results, set: name, space: set.scores.space, labelIDs: set.info.labelIDs,
                                                    replicates: options.bootstrapReplicates, seed: seed))
                    switch try SteeringEstimate.make(results: results, set: name, dump: dump, rows: rows, space: set.scores.space) {
                    case .success(let estimate): estimates.append(estimate)
                    case .failure(let reason): skipped.append(reason)
                    }
                } else if let families = run.comparison {
                    let results = try FVInductionResults(run: run, families: families, set: name, rows: rows, slots: slots, dump: dump)
                    curves.append(FVInductionSummary(results: results, set: name, replicates: options.bootstrapReplicates, seed: seed))
                }
            }
        }
        self.steering = steering
        steeringEstimates = estimates
        steeringEstimateSkipped = skipped
        fvVsInduction = curves
    }
}
