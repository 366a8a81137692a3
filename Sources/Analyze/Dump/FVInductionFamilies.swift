import Foundation
import Shared

/// What each head set of an fv_vs_induction run is (docs/methods.md §17): its family ("none",
/// "fv", "induction", "fv_excluding_induction", "induction_excluding_fv", "tr", "tl" or "random")
/// and the k of its top-k% (0 for "none").
public struct FVInductionFamilies: Sendable {
    public static let named = ["fv", "induction", "fv_excluding_induction", "induction_excluding_fv", "tr", "tl"]

    public let families: [String]              // [S]
    public let percents: [Double]              // [S]

    init(file: DumpFile, group: String, headSets: Int) throws {
        for required in ["head_set_family", "head_set_percent"] where !file.has("\(group)/\(required)") {
            throw InputError(file: file.path, "dataset /\(group)/\(required) is missing (an fv_vs_induction run stores it)")
        }
        let families = try file.dataset("\(group)/head_set_family").readStrings()
        let percents = try file.read("\(group)/head_set_percent", as: Float.self).map(Double.init)
        let known = Set(["none", "random"] + Self.named)
        guard families.count == headSets, percents.count == headSets, families.first == "none",
              families.allSatisfy(known.contains) else {
            throw InputError(file: file.path, "/\(group)/head_set_family must give one of \(known.sorted().joined(separator: ", ")) per head set, \"none\" first")
        }
        guard percents.dropFirst().allSatisfy({ $0 > 0 && $0 <= 100 }) else {
            throw InputError(file: file.path, "/\(group)/head_set_percent holds a k outside (0, 100]")
        }
        self.families = families
        self.percents = percents
    }

    /// The distinct k, ascending.
    public var distinctPercents: [Double] { Array(Set(percents.dropFirst())).sorted() }
}
