import Foundation
import Shared

// Legend: L = layers, H = heads, T = tasks with a CIE.

/// The exact CIE of every head per shuffled-labels set and the function-vector score (AIE) over
/// tasks (docs/methods.md §10.1, §18.2): Todd et al.'s average indirect effect, from the dump's
/// `icl-capture intervene --cie` runs. A set covered by several CIE runs takes the first by name.
public struct FunctionVectorScores: Sendable {
    /// Per shuffled-labels set with a CIE: its exact results.
    public let perSet: [String: ExactCIE]
    /// Mean exact CIE per task over the prompts of all its CIE sets: task -> [L*H].
    public let perTask: [String: [Double]]
    /// AIE: the mean over tasks of `perTask` (each task weighs the same): [L*H].
    public let aie: [Double]
    /// The top k heads by `aie` (docs/methods.md §3.5's k and tie rule).
    public let top: HeadSet

    /// nil when the dump has no CIE run.
    public init?(dump: ShardedDump, runs: [InterventionRun], weights: DumpWeights, topCount k: Int) throws {
        let n = weights.layers * weights.heads
        var perSet: [String: ExactCIE] = [:]
        var sums: [String: (total: [Double], prompts: Int)] = [:]
        for run in runs where run.kind == .cie {
            for set in run.sets where perSet[set] == nil {
                let rows = try SetRows(dump: dump, set: set)
                let exact = try ExactCIE(run: run, set: set, rows: rows, slots: PromptSlots(rows: rows, files: dump.files.count),
                                         dump: dump, heads: n)
                perSet[set] = exact
                var entry = sums[rows.info.task] ?? ([Double](repeating: 0, count: n), 0)
                for p in exact.done.indices where exact.done[p] {
                    for j in 0..<n { entry.total[j] += Double(exact.cie[p * n + j]) }
                }
                entry.prompts += exact.prompts
                sums[rows.info.task] = entry
            }
        }
        guard !sums.isEmpty else { return nil }
        self.perSet = perSet
        perTask = sums.mapValues { entry in entry.total.map { $0 / Double(entry.prompts) } }
        var aie = [Double](repeating: 0, count: n)
        for values in perTask.values { for j in 0..<n { aie[j] += values[j] / Double(perTask.count) } }
        self.aie = aie
        top = HeadSet(name: "top_fv", kind: .named,
                      heads: Ranking.topIndices(aie, count: k).map { HeadID(index: $0, heads: weights.heads) })
    }
}
