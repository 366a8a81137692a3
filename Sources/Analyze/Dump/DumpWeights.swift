import Foundation
import Shared

// Legend: L = layers, H = heads, E = d_head, D = d_model, U = stored unembedding rows.

/// The few weights a dump carries (/model): enough to recompute each head's write into the
/// residual stream and its direct effect on the stored label logits (docs/methods.md §1).
public struct DumpWeights: Sendable {
    public let layers: Int, heads: Int, dHead: Int, dModel: Int
    public let vocabularySize: Int
    public let epsilon: Float
    public let wO: [Float]                 // [L, H, E, D]
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
        wO = try file.read("model/W_O")
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
        for (name, values) in [("W_O", wO), ("final_norm_weight", gamma), ("unembed", unembed), ("b_O", bO ?? [])] {
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

    public func text(of token: Int32) -> String {
        guard let tokenText, token >= 0, Int(token) < tokenText.count else { return "#\(token)" }
        return tokenText[Int(token)]
    }
}
