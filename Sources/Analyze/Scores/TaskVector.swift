import Foundation
import Shared

// Legend: P = done prompts of the set, L = layers, H = heads, E = d_head, D = d_model.

/// Task vectors of head sets (Yang, Cho & Inoue; docs/methods.md §16): for a head set S and a
/// prompt set, v_S = sum_{h in S} mean_p a_h[p], a_h = z_h · W_O^h at the answer position:
/// what `icl-capture intervene --steer` adds to the residual stream of zero-shot prompts.
public enum TaskVector {
    public static let definition = "v_S = sum over the heads h of S of mean_p (z_h[p] @ W_O[l, h]): each head's write into the residual stream at the answer position, averaged over the set's done prompts (no bias); accumulated in float64"

    /// The vectors of `headSets` over `set`'s done prompts, with everything a steering run
    /// needs to check and record (TaskVectorFile).
    public static func make(dump: ShardedDump, set: String, headSets: [HeadSet], headsFile: String,
                            options: AnalysisOptions) throws -> TaskVectorFile {
        let first = dump.files[0]
        guard dump.setNames.contains(set) else {
            throw InputError(file: first.path, "has no set \(set) (sets: \(dump.setNames.joined(separator: ", ")))")
        }
        let weights = try DumpWeights(file: first)
        let rows = try SetRows(dump: dump, set: set)
        guard rows.count > 0 else { throw InputError(file: first.path, "set \(set) has no finished prompt") }
        let space = try LabelSpace(rows: rows, weights: weights, option: options.subspace, path: first.path)
        let scores = try HeadScorePass.run(dump: dump, weights: weights, rows: rows, space: space)
        let score = rankingScore(of: headsFile)
        let vectors = headSets.map { headSet in
            TaskVectorFile.Vector(name: headSet.name, kind: headSet.kind,
                                  family: HeadSetFamily.of(name: headSet.name, kind: headSet.kind, score: score), heads: headSet.heads,
                                  values: sum(of: headSet.heads, zSum: scores.zSum, prompts: rows.count, weights: weights))
        }
        let source = TaskVectorFile.Source(
            dump: dump.files.map(\.path), set: set, task: rows.info.task, template: rows.info.template,
            promptIndex: rows.promptIndex, queries: try queries(of: rows, dump: dump),
            headsFile: headsFile, headsFileSHA256: try SHA256.hexDigest(ofFile: headsFile))
        let model = TaskVectorFile.Model(sha256: first.modelSHA256, name: first.rootAttribute("model_name") ?? "",
                                         dModel: weights.dModel, layers: weights.layers, heads: weights.heads)
        return TaskVectorFile(model: model, source: source, definition: definition, vectors: vectors)
    }

    /// The "score" of a head-set file that `icl-analyze heads --json` wrote (nil for others):
    /// its top set "top_<score>" is that score's family.
    static func rankingScore(of headsFile: String) -> String? {
        struct Ranking: Decodable { let score: String? }
        return FileManager.default.contents(atPath: headsFile).flatMap { try? JSONDecoder().decode(Ranking.self, from: $0) }?.score
    }

    /// sum_{h in heads} (zSum_h / P) @ W_O^h in float64. zSum: [L*H*E] -> [D]
    static func sum(of heads: [HeadID], zSum: [Double], prompts: Int, weights w: DumpWeights) -> [Float] {
        let e = w.dHead, d = w.dModel
        var total = [Double](repeating: 0, count: d)
        for head in heads {
            let index = head.layer * w.heads + head.head, block = w.headOffset(head.layer, head.head)
            for r in 0..<e {
                let mean = zSum[index * e + r] / Double(prompts)
                for c in 0..<d { total[c] += mean * Double(w.wO[block + r * d + c]) }
            }
        }
        return total.map { Float($0) }
    }

    /// Each done prompt's query input tokens (token_ids over query_span), in SetRows order.
    static func queries(of rows: SetRows, dump: ShardedDump) throws -> [[Int32]] {
        let group = "sets/\(rows.info.name)"
        let perFile = try dump.files.map { file in
            (tokens: try file.read(group + "/token_ids", as: Int32.self), width: file.size("token", in: group),
             spans: try file.read(group + "/query_span", as: Int32.self))
        }
        return try rows.locations.map { location in
            let file = perFile[location.file], row = location.row
            let start = Int(file.spans[row * 2]), end = Int(file.spans[row * 2 + 1])
            guard 0 <= start, start <= end, end <= file.width else {
                throw InputError(file: dump.files[location.file].path, "/\(group)/query_span[\(row)] is [\(start), \(end)), outside the prompt's \(file.width) tokens")
            }
            return Array(file.tokens[(row * file.width + start)..<(row * file.width + end)])
        }
    }
}
