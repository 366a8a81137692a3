import Foundation
import Shared

// Legend: Y = distinct labels of a set, D = d_model, k = dimensions of the task subspace.

/// How the task subspace is spanned (docs/methods.md §3).
public enum SubspaceOption: String, Sendable, Codable, CaseIterable {
    /// The label tokens' unembedding rows as they are (Yang, Cho & Inoue's choice).
    case raw
    /// The rows with the final norm's weight folded in (gamma ⊙ w_y): what the residual
    /// stream actually meets on its way to the logits.
    case folded
    /// The rows minus their mean: only the directions that tell labels apart.
    case centred
}

/// The label space of one prompt set: its distinct label tokens, each prompt's gold label among
/// them, the label vectors of the chosen subspace option and an orthonormal basis of their span.
public struct LabelSpace: Sendable {
    public enum Source: String, Sendable, Codable {
        case labels = "label tokens"
        case goldFirstTokens = "distinct gold first tokens"
    }

    public let source: Source
    public let option: SubspaceOption
    public let tokens: [Int32]                 // [Y]
    /// Index into `tokens` of each prompt's gold label: [P]
    public let goldIndex: [Int]
    public let unembedRows: [Float]            // [Y, D] raw w_y
    /// gamma ⊙ w_y, centred for a LayerNorm final norm (what DLA projects on, DumpWeights.folded)
    public let foldedRows: [Float]             // [Y, D]
    /// beta · w_y of a final LayerNorm, 0 for RMSNorm: the part of each logit no component writes
    public let normBiasLogits: [Float]         // [Y]
    public let vectors: [Float]                // [Y, D] v_y of the option
    public let basis: [Float]                  // [k, D] orthonormal rows
    public let dimension: Int                  // k

    public var count: Int { tokens.count }

    public init(rows: SetRows, weights: DumpWeights, option: SubspaceOption, path: String) throws {
        let d = weights.dModel
        var tokens: [Int32] = []
        for id in rows.info.labelIDs where !tokens.contains(id) { tokens.append(id) }
        self.tokens = tokens
        self.option = option
        source = rows.info.kind == .classification ? .labels : .goldFirstTokens
        goldIndex = try rows.gold.indices.map { p in
            let token = rows.info.kind == .classification ? rows.info.labelIDs[Int(rows.gold[p])] : rows.goldToken[p]
            guard let index = tokens.firstIndex(of: token) else {
                throw InputError(file: path, "set \(rows.info.name) prompt \(rows.promptIndex[p]): gold token \(token) is not among the set's label_ids")
            }
            return index
        }
        var raw: [Float] = []
        for token in tokens {
            guard let row = weights.row(of: token) else {
                throw InputError(file: path, "set \(rows.info.name): the unembedding row of label token \(token) is not in /model/unembed")
            }
            raw += row
        }
        unembedRows = raw
        foldedRows = (0..<tokens.count).flatMap { y in weights.folded(raw[(y * d)..<((y + 1) * d)]) }
        normBiasLogits = (0..<tokens.count).map { y in weights.normBiasLogit(raw[(y * d)..<((y + 1) * d)]) }
        switch option {
        case .raw: vectors = raw
        case .folded: vectors = foldedRows
        case .centred:
            let mean = (0..<d).map { j in (0..<tokens.count).reduce(Float(0)) { $0 + raw[$1 * d + j] } / Float(max(tokens.count, 1)) }
            vectors = (0..<tokens.count).flatMap { y in (0..<d).map { raw[y * d + $0] - mean[$0] } }
        }
        basis = Self.orthonormalBasis(vectors, count: tokens.count, width: d)
        dimension = basis.count / max(d, 1)
    }

    /// Orthonormal rows spanning `rows` ([n, width]): modified Gram-Schmidt in Double, applied
    /// twice per row for stability; directions shorter than 1e-6 of the longest row are dropped
    /// (the centred span loses one).
    static func orthonormalBasis(_ rows: [Float], count n: Int, width d: Int) -> [Float] {
        var longest = 0.0
        for y in 0..<n {
            var squares = 0.0
            for j in 0..<d { squares += Double(rows[y * d + j]) * Double(rows[y * d + j]) }
            longest = max(longest, squares.squareRoot())
        }
        var basis: [[Double]] = []
        for y in 0..<n {
            var v = (0..<d).map { Double(rows[y * d + $0]) }
            for _ in 0..<2 {
                for q in basis {
                    let dot = zip(v, q).reduce(0.0) { $0 + $1.0 * $1.1 }
                    for j in 0..<d { v[j] -= dot * q[j] }
                }
            }
            let norm = sqrt(v.reduce(0.0) { $0 + $1 * $1 })
            if norm > 1e-6 * longest && norm > 0 { basis.append(v.map { $0 / norm }) }
        }
        return basis.flatMap { $0.map(Float.init) }
    }
}
