import Foundation
import Shared

// Legend: L = layers, H = heads, n = L * H.

/// What `--fv-vs-induction` was asked to compare (recorded in the run's options).
public struct FVInductionRequest: Sendable, Codable, Equatable {
    /// The CIE run under /interventions the FV ranking comes from; nil: the dump's only one.
    public var cieRun: String?
    /// A ranking of every head by induction score (icl-analyze heads --score induction --top 100% --json).
    public var inductionFile: String
    /// Optional rankings of every head by TR and TL score (icl-analyze heads --score tr|tl --top 100% --json):
    /// families "tr" and "tl" at the same percents.
    public var trFile: String?
    public var tlFile: String?
    /// k of the top-k% sets.
    public var percents: [Double] = [1, 3, 5, 10, 20]
    /// The other mechanism's top share removed first in the exclusion variant (rounded up).
    public var exclusionPercent: Double = 2
    /// Random sets per k, of the same size, drawn outside that k's FV and induction sets.
    public var randomSets: Int = 20
    public var seed: UInt64 = 0
    /// Greedy tokens generated per prompt and head set.
    public var newTokens: Int = 5

    public init(cieRun: String?, inductionFile: String) {
        self.cieRun = cieRun
        self.inductionFile = inductionFile
    }
}

/// The head sets Yin & Steinhardt ablate (docs/methods.md §17): per k, the top-k% FV heads
/// (by AIE), the top-k% induction heads, each with the other mechanism's top heads removed
/// first (the exclusion variant), the top-k% TR and TL heads when their rankings are given, and
/// random sets of the same size drawn outside every named family's set of that k.
public struct FVInductionSets {
    /// "none" first, then per k: fv, induction, fv_excluding_induction, induction_excluding_fv, [tr, tl,] random...
    public let headSets: [HeadSet]
    public let families: [String]
    public let percents: [Float]

    /// max(1, floor(k% of n)), as Yin & Steinhardt's code takes int(k * n).
    public static func topCount(percent: Double, of n: Int) -> Int {
        max(1, Int((percent * Double(n) / 100 + 1e-9).rounded(.down)))
    }

    /// ceil(k% of n): METHODS asks for rounding up here (their code rounds down).
    public static func exclusionCount(percent: Double, of n: Int) -> Int {
        Int((percent * Double(n) / 100 - 1e-9).rounded(.up))
    }

    /// `fv`, `induction` and the optional `tr`, `tl`: every head, best first, as flat indices l * H + h.
    public init(fv: [Int], induction: [Int], tr: [Int]? = nil, tl: [Int]? = nil, request: FVInductionRequest, layers: Int, heads: Int) {
        let n = layers * heads
        let excluded = Self.exclusionCount(percent: request.exclusionPercent, of: n)
        let topInduction = Set(induction.prefix(excluded)), topFV = Set(fv.prefix(excluded))
        let fvExcluding = fv.filter { !topInduction.contains($0) }, inductionExcluding = induction.filter { !topFV.contains($0) }
        var sets = [HeadSet(name: "none", kind: .named, heads: [])]
        var families = ["none"], percents: [Float] = [0]
        func ids(_ indices: ArraySlice<Int>) -> [HeadID] { indices.map { HeadID(index: $0, heads: heads) } }
        for (i, k) in request.percents.enumerated() {
            let count = Self.topCount(percent: k, of: n), label = String(format: "%g", k)
            var named = [("fv", fv.prefix(count)), ("induction", induction.prefix(count)),
                         ("fv_excluding_induction", fvExcluding.prefix(count)),
                         ("induction_excluding_fv", inductionExcluding.prefix(count))]
            if let tr { named.append(("tr", tr.prefix(count))) }
            if let tl { named.append(("tl", tl.prefix(count))) }
            for (family, heads) in named {
                sets.append(HeadSet(name: "\(family)_top\(label)", kind: .named, heads: ids(heads)))
                families.append(family)
                percents.append(Float(k))
            }
            // Outside the top-k sets of every ranking (not the exclusion variants: without TR and
            // TL rankings the draw is the one runs made before they existed).
            let outside = Set(named.filter { !$0.0.contains("_excluding_") }.flatMap { ids($0.1) })
            for (r, random) in HeadSet.randomSets(count: request.randomSets, size: count, layers: layers, heads: heads,
                                                  excluded: outside, seed: SplitMix64.derive(request.seed, UInt64(i))).enumerated() {
                sets.append(HeadSet(name: String(format: "random_top%@_%02d", label, r), kind: .random, heads: random.heads))
                families.append("random")
                percents.append(Float(k))
            }
        }
        headSets = sets
        self.families = families
        self.percents = percents
    }

    /// Every head ranked by a ranking file's "heads" order (icl-analyze heads --top 100% --json),
    /// as flat indices; the file must rank all L x H heads, each once. `score` names the score
    /// the file should rank by, for the messages.
    public static func readRanking(path: String, layers: Int, heads: Int, score wanted: String = "induction") throws -> (heads: [Int], score: String) {
        struct File: Decodable {
            let heads: [HeadID]
            let score: String?
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw InputError(file: path, "cannot be read") }
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            throw InputError(file: path, "is not a head ranking (icl-analyze heads --score \(wanted) --top 100% --json): \(error)")
        }
        for head in file.heads where !(0..<layers).contains(head.layer) || !(0..<heads).contains(head.head) {
            throw InputError(file: path, "ranks head \(head), but the model has \(layers) layers of \(heads) heads")
        }
        guard Set(file.heads).count == file.heads.count else { throw InputError(file: path, "ranks a head twice") }
        guard file.heads.count == layers * heads else {
            throw InputError(file: path, "ranks \(file.heads.count) heads, not all \(layers * heads) (make it with icl-analyze heads --score \(wanted) --top 100% --json)")
        }
        return (file.heads.map { $0.layer * heads + $0.head }, file.score ?? "")
    }
}
