import Foundation
import Shared

// Legend: R = rows of a batch, L = layers, H = heads, E = head_dim.

/// The exact causal indirect effect of every head (Todd et al. 2024; docs/methods.md §10.1,
/// §14) on a shuffled-labels set: for each corrupted prompt and head h,
/// CIE_h = P(gold | z_h at the last position := clean mean) - P(gold | corrupted), P over the
/// full vocabulary. The L x H patched runs of a prompt share its prefix's KV cache and each
/// starts at its head's layer (LastTokenInterventions).
public struct CIERun {
    public let transformer: Transformer
    /// Most prompt tokens per prefix pass; the patched runs are one prompt's L x H variants.
    public var batchTokens = 2048

    public init(transformer: Transformer) {
        self.transformer = transformer
    }

    /// Every head's patch with the clean mean: [L * H] variants of one patch each.
    private func variants(mean: [Float]) -> [[HeadPatch]] {
        let config = transformer.config
        let e = config.headDim
        return (0..<config.layerCount).flatMap { l in
            (0..<config.headCount).map { h in
                let start = (l * config.headCount + h) * e
                return [HeadPatch(layer: l, head: h, values: Array(mean[start..<(start + e)]))]
            }
        }
    }

    /// Runs `set`'s rows that the capture finished and `finished` does not mark, writing each
    /// batch's results with `write(rows, values)`.
    public func run(_ set: DumpPromptSet, mean: CleanMean, finished: [Bool], progress: ProgressReporter?,
                    write: (Range<Int>, [String: InterventionValues]) throws -> Void) throws {
        let patches = variants(mean: mean.mean)
        let heads = patches.count
        for rows in RowBatches.pending(set, finished: finished, batchTokens: batchTokens) {
            var corrupted = [Float](repeating: 0, count: rows.count)
            var patched = [Float](repeating: 0, count: rows.count * heads)      // [R, L * H]
            var effect = [Float](repeating: 0, count: rows.count * heads)       // [R, L * H]
            for (b, row) in rows.enumerated() {
                var baseline = 0.0
                var probabilities = [Double](repeating: 0, count: heads)
                try LastTokenInterventions(transformer: transformer).run(prompts: [set.tokens[row]], variants: [patches]) { _, v, logits in
                    let p = AnswerMetrics(logits: logits, gold: set.goldTokens[row], labels: []).goldProbability
                    if v < 0 { baseline = p } else { probabilities[v] = p }
                }
                corrupted[b] = Float(baseline)
                for j in 0..<heads {
                    patched[b * heads + j] = Float(probabilities[j])
                    effect[b * heads + j] = Float(probabilities[j] - baseline)
                }
                progress?.advance(by: 1, tokens: set.tokens[row].count, label: set.name)
            }
            try write(rows, ["corrupted_gold_prob": .float32(corrupted), "gold_prob": .float32(patched), "cie": .float32(effect)])
        }
    }
}
