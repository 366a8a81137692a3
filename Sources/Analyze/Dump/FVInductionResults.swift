import Foundation
import Shared

// Legend: P = done prompts of a set (SetRows order), S = head sets of the run ("none" first).

/// An fv_vs_induction run's results on one set (docs/methods.md §17), in SetRows order: the
/// first generated position's metrics (read as an ablation run's) and the token F1 of each
/// greedy continuation; rows the run did not finish are NaN.
public struct FVInductionResults: Sendable {
    public let exact: ExactAblation
    public let families: FVInductionFamilies
    public let f1: [Float]                  // [P, S] in [0, 1]

    init(run: InterventionRun, families: FVInductionFamilies, set: String, rows: SetRows, slots: PromptSlots,
         dump: ShardedDump) throws {
        exact = try ExactAblation(run: run, set: set, rows: rows, slots: slots, dump: dump)
        self.families = families
        let group = "interventions/\(run.name)/sets/\(set)", s = run.headSets.count
        var f1 = [Float](repeating: .nan, count: rows.count * s)
        var loaded: (path: String, values: [Float])?
        _ = try slots.forEachDone(run: run, set: set, dump: dump) { file, row, slot in
            if loaded?.path != file.path {
                guard file.has(group + "/generation_f1") else {
                    throw InputError(file: file.path, "dataset /\(group)/generation_f1 is missing (an fv_vs_induction run stores it)")
                }
                loaded = (file.path, try file.read(group + "/generation_f1", as: Float.self))
            }
            let values = loaded!.values[row * s ..< (row + 1) * s]
            guard values.allSatisfy({ (0...1).contains($0) }) else {
                throw InputError(file: file.path, "/\(group) row \(row): generation_f1 is not in [0, 1]")
            }
            f1.replaceSubrange(slot * s ..< (slot + 1) * s, with: values)
        }
        self.f1 = f1
    }
}
