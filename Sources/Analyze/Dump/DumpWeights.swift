import Foundation
import Shared

// Legend: L = layers, H = heads, E = d_head, D = d_model, U = stored unembedding rows.

/// The few weights a dump carries (/model): enough to recompute each head's write into the
/// residual stream and its direct effect on the stored label logits (docs/methods.md §1).
public struct DumpWeights: Sendable {
    public let layers: Int, heads: Int, dHead: Int, dModel: Int
    public let vocabularySize: Int
    public let epsilon: Float
    /// The final norm (format 1.3's /model attribute final_norm_kind; earlier dumps are RMSNorm).
    public let finalNormKind: FinalNormKind
    /// beta of a final LayerNorm: [D]
    public let beta: [Float]?
    /// The heads' output projections as a head writes through them: W_O[l, h], times the
    /// attention output norm's gain g[l] column by column when the model has that norm (format
    /// 1.4), so that a_h = (s z_h) @ wO with the per-token scale s applied to z as it is read
    /// (SetRows.attentionOutputScale; docs/methods.md §26).
    public let wO: [Float]                 // [L, H, E, D]
    /// g of the attention output norm, nil when the model has none.
    public let attentionOutputGain: [Float]?   // [L, D]
    public let bO: [Float]?                // [L, D]
    public let gamma: [Float]              // [D] final norm weight
    public let unembed: [Float]            // [U, D]
    public let unembedRow: [Int32: Int]    // token id -> row of `unembed`
    /// Text of every token id (format 1.1), else nil.
    public let tokenText: [String]?

    public init(file: DumpFile) throws {
        let sizes = file.sizes["model"]!
        layers = sizes["layer"]!; heads = sizes["head"]!; dHead = sizes["d_head"]!; dModel = sizes["d_model"]!
        guard let vocabulary = try? file.intAttribute("vocabulary_size", of: "model"), vocabulary > 0 else {
            throw InputError(file: file.path, "/model has no positive vocabulary_size attribute")
        }
        vocabularySize = vocabulary
        guard let eps = try? file.file.openGroup("model").attribute("rms_norm_epsilon", as: Double.self),
              eps.isFinite, eps >= 0 else {
            throw InputError(file: file.path, "/model has no valid rms_norm_epsilon attribute")
        }
        epsilon = Float(eps)
        let kind = (try? file.file.openGroup("model").attribute("final_norm_kind", as: String.self)) ?? "rms"
        guard let normKind = FinalNormKind(rawValue: kind) else {
            throw InputError(file: file.path, "/model final_norm_kind is \"\(kind)\", expected \"rms\" or \"layer\"")
        }
        finalNormKind = normKind
        beta = file.has("model/final_norm_bias") ? try file.read("model/final_norm_bias") : nil
        if (normKind == .layer) != (beta != nil) {
            throw InputError(file: file.path, "/model/final_norm_bias is \(beta == nil ? "missing for a LayerNorm" : "present for an RMSNorm") final norm")
        }
        var wO: [Float] = try file.read("model/W_O")
        if file.attentionOutputNorm {
            let gain: [Float] = try file.read("model/attention_output_norm_weight")
            if let bad = gain.firstIndex(where: { !$0.isFinite }) {
                throw InputError(file: file.path, "/model/attention_output_norm_weight holds a non-finite value at element \(bad)")
            }
            let d = dModel, block = heads * dHead
            for layer in 0..<layers {
                for r in 0..<block {
                    let row = (layer * block + r) * d
                    for j in 0..<d { wO[row + j] *= gain[layer * d + j] }
                }
            }
            attentionOutputGain = gain
        } else {
            attentionOutputGain = nil
        }
        self.wO = wO
        bO = file.has("model/b_O") ? try file.read("model/b_O") : nil
        gamma = try file.read("model/final_norm_weight")
        unembed = try file.read("model/unembed")
        let ids = try file.read("model/unembed_ids", as: Int32.self)
        var rows: [Int32: Int] = [:]
        for (row, id) in ids.enumerated() {
            guard id >= 0, Int(id) < vocabulary else {
                throw InputError(file: file.path, "/model/unembed_ids[\(row)] is \(id), outside the vocabulary of \(vocabulary)")
            }
            guard rows.updateValue(row, forKey: id) == nil else {
                throw InputError(file: file.path, "/model/unembed_ids lists token \(id) twice")
            }
        }
        unembedRow = rows
        tokenText = file.has("model/token_text") ? try file.dataset("model/token_text").readStrings() : nil
        for (name, values) in [("W_O", wO), ("final_norm_weight", gamma), ("unembed", unembed), ("b_O", bO ?? []), ("final_norm_bias", beta ?? [])] {
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw InputError(file: file.path, "/model/\(name) holds a non-finite value at element \(bad)")
            }
        }
    }

    /// Every token's unembedding row is stored (`--full-unembed`): full-vocabulary metrics can be recomputed.
    public var hasFullUnembedding: Bool { unembedRow.count == vocabularySize }

    /// Offset of head (l, h)'s [E, D] block in `wO`.
    @inline(__always) public func headOffset(_ layer: Int, _ head: Int) -> Int { (layer * heads + head) * dHead * dModel }

    /// The unembedding row of `token`, or nil when the dump does not store it.
    public func row(of token: Int32) -> ArraySlice<Float>? {
        guard let row = unembedRow[token] else { return nil }
        return unembed[row * dModel ..< (row + 1) * dModel]
    }

    /// The direction a residual-stream component c meets on its way to the logit of a token with
    /// unembedding row w, before the frozen scale s (docs/methods.md §23): gamma ⊙ w for RMSNorm;
    /// for LayerNorm the centring is linear, s (gamma ⊙ (c - mean(c))) · w = s c · (u - mean(u))
    /// with u = gamma ⊙ w, so the direction is u centred. [D]
    public func folded(_ row: ArraySlice<Float>) -> [Float] {
        var u = (0..<dModel).map { gamma[$0] * row[row.startIndex + $0] }
        if finalNormKind == .layer {
            let mean = u.reduce(0, +) / Float(dModel)
            for j in 0..<dModel { u[j] -= mean }
        }
        return u
    }

    /// beta · w: the constant the final LayerNorm's bias adds to a token's logit (0 for RMSNorm).
    public func normBiasLogit(_ row: ArraySlice<Float>) -> Float {
        guard let beta else { return 0 }
        var dot: Float = 0
        for j in 0..<dModel { dot += beta[j] * row[row.startIndex + j] }
        return dot
    }

    /// The final norm's scale of a residual stream x ([D]), recomputed: 1/sqrt(mean(x^2) + eps)
    /// for RMSNorm, 1/sqrt(var(x) + eps) for LayerNorm.
    public func finalNormScale(_ x: UnsafePointer<Float>) -> Float {
        guard finalNormKind == .layer else { return 1 / (VectorMath.sumOfSquares(x, count: dModel) / Float(dModel) + epsilon).squareRoot() }
        let mean = VectorMath.sum(x, count: dModel) / Float(dModel)
        return 1 / (VectorMath.centredSumOfSquares(x, mean: mean, count: dModel) / Float(dModel) + epsilon).squareRoot()
    }

    /// The final norm of x ([D]) with scale s into out ([D]): s gamma ⊙ x, or s gamma ⊙ (x - mean(x)) + beta.
    public func applyFinalNorm(_ x: UnsafePointer<Float>, scale s: Float, into out: UnsafeMutablePointer<Float>) {
        let mean = finalNormKind == .layer ? VectorMath.sum(x, count: dModel) / Float(dModel) : 0
        for j in 0..<dModel { out[j] = s * gamma[j] * (x[j] - mean) + (beta?[j] ?? 0) }
    }

    public func text(of token: Int32) -> String {
        guard let tokenText, token >= 0, Int(token) < tokenText.count else { return "#\(token)" }
        return tokenText[Int(token)]
    }
}

/// The kind of a dump's final norm, as /model's final_norm_kind names it.
public enum FinalNormKind: String, Sendable {
    case rms
    case layer
}
