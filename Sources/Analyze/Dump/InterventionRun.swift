import Foundation
import Shared

/// One `icl-capture intervene` run (/interventions/{name}, docs/methods.md §14) as the files of
/// a capture hold it. Each shard file carries the run's results for its own prompts, so a run
/// is one name in every file that has it, with the same kind and options in each.
public struct InterventionRun: Sendable {
    /// The kinds this analyzer reads; a run of another kind is listed (summary.json) but not read.
    public enum Kind: String, Sendable, Codable {
        case ablation, cie, steering
        case fvVsInduction = "fv_vs_induction"
    }

    public let name: String
    /// The `kind` attribute as stored.
    public let storedKind: String
    public let kind: Kind?
    /// Ablation: "zero" or "mean", and "answer" or "all" (from the run's options).
    public let mode: String?
    public let positions: String?
    /// Ablation, fv_vs_induction: every head set in stored order, "none" (no heads) first; kinds
    /// as the run's head-set files gave them.
    public let headSets: [HeadSet]
    public let sets: [String]
    /// The files that hold the run (a shard without it contributes no prompts).
    public let files: [String]
    /// Steering: the vectors and layers (SteeringVectors); fv_vs_induction: each head set's
    /// family and k (FVInductionFamilies). Read by their own types from the first file.
    public let steering: SteeringVectors?
    public let comparison: FVInductionFamilies?

    /// Every run of the dump, in name order.
    public static func all(in dump: ShardedDump) throws -> [InterventionRun] {
        let names = Set(dump.files.flatMap(\.interventionNames)).sorted()
        return try names.map { name in try InterventionRun(name: name, files: dump.files.filter { $0.interventionNames.contains(name) }) }
    }

    private init(name: String, files: [DumpFile]) throws {
        let group = "interventions/\(name)", first = files[0]
        self.name = name
        storedKind = try first.stringAttribute("kind", of: group)
        kind = Kind(rawValue: storedKind)
        let options = try first.stringAttribute("options", of: group)
        let sets = try first.stringsAttribute("sets", of: group)
        for file in files.dropFirst() {
            guard try file.stringAttribute("kind", of: group) == storedKind, try file.stringAttribute("options", of: group) == options else {
                throw InputError(file: file.path, "/\(group) holds a run of other options than \(first.path)'s run of that name")
            }
        }
        self.sets = sets
        self.files = files.map(\.path)
        steering = try kind == .steering ? SteeringVectors(file: first, group: group, others: Array(files.dropFirst())) : nil
        guard kind == .ablation || kind == .fvVsInduction else {
            mode = nil
            positions = nil
            headSets = []
            comparison = nil
            return
        }
        struct Options: Decodable {
            let mode: String?
            let positions: String?
            let headSets: [HeadSet]?
        }
        let allowed = kind == .ablation ? (["zero", "mean"], ["answer", "all"]) : (["mean"], ["answer+generated"])
        guard let parsed = try? JSONDecoder().decode(Options.self, from: Data(options.utf8)),
              let mode = parsed.mode, allowed.0.contains(mode),
              let positions = parsed.positions, allowed.1.contains(positions) else {
            throw InputError(file: first.path, "/\(group) attribute options does not give mode \(allowed.0.joined(separator: "|")) and positions \(allowed.1.joined(separator: "|"))")
        }
        self.mode = mode
        self.positions = positions
        for required in ["head_set_name", "head_mask"] where !first.has("\(group)/\(required)") {
            throw InputError(file: first.path, "dataset /\(group)/\(required) is missing (an \(storedKind) run stores it)")
        }
        let names = try first.dataset("\(group)/head_set_name").readStrings()
        let mask = try first.read("\(group)/head_mask", as: UInt8.self)          // [S, L, H]
        let heads = first.size("head"), perSet = first.size("layer") * heads
        guard names.first == "none", mask.prefix(perSet).allSatisfy({ $0 == 0 }) else {
            throw InputError(file: first.path, "/\(group): head set 0 is not \"none\" with no heads")
        }
        guard Set(names).count == names.count else { throw InputError(file: first.path, "/\(group)/head_set_name names a set twice") }
        let kinds = Dictionary((parsed.headSets ?? []).map { ($0.name, $0.kind) }, uniquingKeysWith: { a, _ in a })
        headSets = try names.enumerated().map { s, setName in
            let row = mask[s * perSet ..< (s + 1) * perSet]
            if let bad = row.first(where: { $0 > 1 }) {
                throw InputError(file: first.path, "/\(group)/head_mask of set \(setName) holds \(bad); mask entries are 0 or 1")
            }
            let members = row.indices.filter { row[$0] == 1 }.map { HeadID(index: $0 - s * perSet, heads: heads) }
            if s > 0, members.isEmpty { throw InputError(file: first.path, "/\(group): head set \(setName) ablates no head") }
            return HeadSet(name: setName, kind: kinds[setName] ?? (s == 0 ? .named : .file), heads: members)
        }
        for file in files.dropFirst() {
            guard try file.dataset("\(group)/head_set_name").readStrings() == names,
                  try file.read("\(group)/head_mask", as: UInt8.self) == mask else {
                throw InputError(file: file.path, "/\(group) holds other head sets than \(first.path)'s run of that name")
            }
        }
        comparison = try kind == .fvVsInduction ? FVInductionFamilies(file: first, group: group, headSets: headSets.count) : nil
    }
}
