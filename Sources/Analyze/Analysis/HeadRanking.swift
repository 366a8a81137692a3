import Foundation
import Shared

/// The top heads of a dump by one score, as `icl-analyze heads` prints them (a head-set file).
public struct HeadRanking: Sendable, Encodable {
    public enum Score: String, Sendable, Codable, CaseIterable {
        case tr, tl, dla, induction
        /// Function-vector score: the exact CIE's mean over prompts and tasks (AIE, docs/methods.md §18.2).
        case fv
        /// First-order function-vector score: cie_atp from the dump's gradients, averaged over
        /// prompts and tasks like fv (docs/methods.md §20.2); no model run needed.
        case fvAtp = "fv-atp"
    }

    public let score: Score
    /// The set asked for, or nil for the mean over the clean sets.
    public let set: String?
    /// The sets whose scores were averaged.
    public let sets: [String]
    public let fraction: Double
    public let subspace: String
    public let dump: [String]
    public let heads: [HeadID]
    public let values: [Double]
    /// The top set ("top_<score>") and `randomSets` random sets of its size drawn outside it
    /// (seeded by `seed`): the "headSets" form of a head-set file (HeadSetFile).
    public let headSets: [HeadSet]
    public let seed: UInt64

    public init(dump: ShardedDump, score: Score, set: String?, options: AnalysisOptions, randomSets: Int = 0) throws {
        let weights = try DumpWeights(file: dump.files[0])
        let n = weights.layers * weights.heads
        var values = [Double](repeating: 0, count: n)
        var used: [String] = []
        let path = dump.files[0].path
        if score == .induction {
            guard let probe = dump.probeNames.first else { throw InputError(file: path, "has no induction probe set") }
            values = try InductionScores.compute(dump: dump, probe: probe).stripe
        } else if score == .fv {
            let k = Ranking.topCount(fraction: options.topFraction, of: n)
            guard let fv = try FunctionVectorScores(dump: dump, runs: try InterventionRun.all(in: dump), weights: weights, topCount: k) else {
                throw InputError(file: path, "has no exact CIE (run icl-capture intervene --cie on it first)")
            }
            if let set {
                guard let exact = fv.perSet[set] else {
                    throw InputError(file: path, "set \(set) has no exact CIE (sets with one: \(fv.perSet.keys.sorted().joined(separator: ", ")))")
                }
                values = exact.meanCIE
                used = [set]
            } else {
                values = fv.aie
                used = fv.perSet.keys.sorted()
            }
        } else if score == .fvAtp {
            values = try Self.firstOrderFV(dump: dump, weights: weights, set: set, used: &used)
        } else {
            if let set, !dump.setNames.contains(set) {
                throw InputError(file: path, "has no set \(set) (sets: \(dump.setNames.joined(separator: ", ")))")
            }
            used = set.map { [$0] } ?? dump.setNames.filter { (try? dump.files[0].stringAttribute("variant", of: "sets/\($0)")) == "clean" }
            guard !used.isEmpty else { throw InputError(file: path, "has no clean set; name one with --set") }
            for name in used {
                let rows = try SetRows(dump: dump, set: name)
                guard rows.count > 0 else { throw InputError(file: path, "set \(name) has no finished prompt") }
                let space = try LabelSpace(rows: rows, weights: weights, option: options.subspace, path: path)
                let scores = try HeadScorePass.run(dump: dump, weights: weights, rows: rows, space: space)
                let these = score == .tr ? scores.meanTR : score == .tl ? scores.meanTL : scores.meanDLAGold
                for j in 0..<n { values[j] += these[j] / Double(used.count) }
            }
        }
        let top = Ranking.topIndices(values, count: Ranking.topCount(fraction: options.topFraction, of: n))
        self.score = score
        self.set = set
        sets = used
        fraction = options.topFraction
        subspace = options.subspace.rawValue
        self.dump = dump.files.map(\.path)
        heads = top.map { HeadID(index: $0, heads: weights.heads) }
        self.values = top.map { values[$0] }
        let topSet = HeadSet(name: "top_\(score.rawValue.replacingOccurrences(of: "-", with: "_"))", kind: .named, heads: heads)
        seed = options.seed
        headSets = [topSet] + HeadSet.randomSets(count: randomSets, size: heads.count, layers: weights.layers,
                                             heads: weights.heads, excluded: Set(heads), seed: options.seed)
    }

    /// cie_atp of `set`, or the mean over tasks of each task's mean over the prompts of its
    /// shuffled-labels sets (each task weighs the same, as fv_score): [L*H]
    private static func firstOrderFV(dump: ShardedDump, weights: DumpWeights, set: String?, used: inout [String]) throws -> [Double] {
        let path = dump.files[0].path, n = weights.layers * weights.heads
        if let set, !dump.setNames.contains(set) {
            throw InputError(file: path, "has no set \(set) (sets: \(dump.setNames.joined(separator: ", ")))")
        }
        let candidates = set.map { [$0] }
            ?? dump.setNames.filter { (try? dump.files[0].stringAttribute("variant", of: "sets/\($0)")) == "shuffled_labels" }
        guard !candidates.isEmpty else { throw InputError(file: path, "has no shuffled-labels set; the first-order CIE is scored on one") }
        let metric = try GradientMetric.of(dump)
        var perTask: [String: (total: [Double], prompts: Int)] = [:]
        for name in candidates {
            let rows = try SetRows(dump: dump, set: name)
            guard rows.count > 0 else { throw InputError(file: path, "set \(name) has no finished prompt") }
            let attribution = try SetAttribution(dump: dump, weights: weights, rows: rows, metric: metric, exact: [], exactCIE: nil)
            guard let cie = attribution.cie else {
                throw InputError(file: path, "set \(name) has no first-order CIE: \(attribution.cieUnavailable ?? "not a shuffled-labels set")")
            }
            var entry = perTask[rows.info.task] ?? ([Double](repeating: 0, count: n), 0)
            for j in 0..<n { entry.total[j] += cie[j] * Double(rows.count) }
            entry.prompts += rows.count
            perTask[rows.info.task] = entry
            used.append(name)
        }
        var values = [Double](repeating: 0, count: n)
        for entry in perTask.values { for j in 0..<n { values[j] += entry.total[j] / Double(entry.prompts) / Double(perTask.count) } }
        return values
    }
}
