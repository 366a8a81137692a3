import Foundation
import Shared

// Legend: P = done prompts of the set, L = layers, H = heads, E = d_head, D = d_model,
// Y = distinct labels, C = key categories (5).

/// Everything the first pass over a set computes, per prompt, at the answer position
/// (docs/methods.md §3-§6): the per-prompt values are kept for intervals and the bootstrap.
public struct SetScores: Sendable {
    public let rows: SetRows
    public let space: LabelSpace
    public let layers: Int, heads: Int
    public var prompts: Int { rows.count }
    public var headCount: Int { layers * heads }

    public var tr: [Float]                  // [P, L*H]
    /// NaN where TR is too small to divide by (docs/methods.md §3).
    public var tl: [Float]                  // [P, L*H]
    public var dlaGold: [Float]             // [P, L*H]
    public var dlaMargin: [Float]           // [P, L*H]
    public var attention: [Float]           // [P, L*H, C]
    /// Direct effects of the other components (embedding, each layer's attention bias and MLP):
    /// gold logit and margin.
    public var embedding: [Float]           // [P, 2]
    public var attentionBias: [Float]       // [P, L, 2]
    public var mlp: [Float]                 // [P, L, 2]
    /// Geometry of the residual stream per stored layer: alignment ||Q^T h|| / ||h|| and the
    /// gold-vs-others logit difference (docs/methods.md §9).
    public var alignment: [Float]           // [P, L+1]
    public var logitDifference: [Float]     // [P, L+1]
    /// Sum over prompts of z per head (for leave-one-out means).
    public var zSum: [Double]               // [L*H*E]
    /// Largest |sum of components - stored label logit| over prompts and labels, and the largest
    /// stored label logit magnitude (the invariant of §4).
    public var componentError: Float
    public var logitScale: Float

    init(rows: SetRows, space: LabelSpace, layers: Int, heads: Int, dHead: Int) {
        self.rows = rows
        self.space = space
        self.layers = layers
        self.heads = heads
        let p = rows.count, n = layers * heads
        tr = [Float](repeating: 0, count: p * n)
        tl = tr
        dlaGold = tr
        dlaMargin = tr
        attention = [Float](repeating: 0, count: p * n * KeyCategory.allCases.count)
        embedding = [Float](repeating: 0, count: p * 2)
        attentionBias = [Float](repeating: 0, count: p * layers * 2)
        mlp = attentionBias
        alignment = [Float](repeating: 0, count: p * (layers + 1))
        logitDifference = alignment
        zSum = [Double](repeating: 0, count: n * dHead)
        componentError = 0
        logitScale = 0
    }

    /// Mean over prompts of a [P, width] array, per column; NaN entries are skipped (a column
    /// with none defined is NaN).
    public static func columnMeans(_ values: [Float], prompts: Int, width: Int) -> [Double] {
        var sums = [Double](repeating: 0, count: width), counts = [Int](repeating: 0, count: width)
        for p in 0..<prompts {
            for j in 0..<width {
                let v = values[p * width + j]
                if !v.isNaN { sums[j] += Double(v); counts[j] += 1 }
            }
        }
        return zip(sums, counts).map { $1 > 0 ? $0 / Double($1) : .nan }
    }

    /// Means over prompts, per head (NaN entries skipped): set by `summarize()` once the pass is done.
    public private(set) var meanTR: [Double] = []
    public private(set) var meanTL: [Double] = []
    public private(set) var meanDLAGold: [Double] = []
    public private(set) var meanDLAMargin: [Double] = []
    /// [L*H, C]
    public private(set) var meanAttention: [Double] = []

    mutating func summarize() {
        meanTR = Self.columnMeans(tr, prompts: prompts, width: headCount)
        meanTL = Self.columnMeans(tl, prompts: prompts, width: headCount)
        meanDLAGold = Self.columnMeans(dlaGold, prompts: prompts, width: headCount)
        meanDLAMargin = Self.columnMeans(dlaMargin, prompts: prompts, width: headCount)
        meanAttention = Self.columnMeans(attention, prompts: prompts, width: headCount * KeyCategory.allCases.count)
    }

    /// Prompts whose TL is undefined, per head.
    public var undefinedTL: [Int] {
        (0..<headCount).map { j in (0..<prompts).filter { tl[$0 * headCount + j].isNaN }.count }
    }
}
