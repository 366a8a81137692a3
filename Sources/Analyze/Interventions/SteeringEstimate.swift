import Foundation
import Shared

// Legend: P = done prompts of the set, V = steering vectors ("none" first), S = steering layers,
// D = d_model, Y = distinct labels.

/// The first-order (attribution-patching) estimate of steering against the exact change
/// (docs/methods.md §21.2): where the steered set was captured with `--grads M`, adding `v` to
/// resid_pre[l] at the answer position changes M by about v · dM/dresid_pre[l], with v as the
/// run added it (scale included) and the gradient the capture stored (grad_resid at position 0).
/// The exact change is the run's: M(steered) - M(none) from steer_gold_logprob (gold-logprob,
/// gold-prob = its exp) or steer_label_logits (label-margin).
public struct SteeringEstimate: Sendable {
    /// A steering run and set the estimate cannot be compared on, and why.
    public struct Skipped: Error, Sendable, Encodable {
        public let run: String
        public let set: String
        public let reason: String
    }

    public let set: String
    public let results: SteeringResults
    /// The dump's gradient_metric: gold-logprob, gold-prob or label-margin.
    public let metric: String
    /// v · dM/dresid_pre[l] per prompt, vector and layer; NaN where the prompt is not done or its
    /// gradient is NaN (no gold token): [P, V, S]
    public let estimate: [Double]
    /// M(steered) - M(none): [P, V, S]
    public let exact: [Double]

    /// The comparison on `set`, or the reason there is none.
    static func make(results: SteeringResults, set: String, dump: ShardedDump, rows: SetRows,
                     space: LabelSpace) throws -> Result<SteeringEstimate, Skipped> {
        let run = results.run.name
        func skip(_ reason: String) -> Result<SteeringEstimate, Skipped> { .failure(Skipped(run: run, set: set, reason: reason)) }
        let metric = dump.files[0].rootAttribute("gradient_metric") ?? ""
        guard !metric.isEmpty else { return skip("the dump holds no gradients (capture the steered sets with icl-capture run --grads)") }
        guard ["gold-logprob", "gold-prob", "label-margin"].contains(metric) else {
            return skip("gradient_metric \(metric) is not one this analyzer knows")
        }
        guard dump.files.allSatisfy({ $0.has("sets/\(set)/grad_resid") }) else { return skip("set \(set) has no grad_resid") }
        let vectors = results.vectors, v = vectors.count, s = vectors.layers.count, d = vectors.dModel
        let layerCount = dump.files[0].size("layer")
        guard d == dump.files[0].size("d_model") else { return skip("the run's vectors have \(d) values, the dump's d_model is \(dump.files[0].size("d_model"))") }
        let readers = try dump.files.map { try ActivationReader(file: $0, dataset: "sets/\(set)/grad_resid") }
        let labelIDs = rows.info.labelIDs, y = labelIDs.count
        let columns = space.tokens.map { labelIDs.firstIndex(of: $0)! }
        var estimate = [Double](repeating: .nan, count: rows.count * v * s), exact = estimate
        var gradient = [Float](repeating: 0, count: (layerCount + 1) * d)    // [L + 1, D] at the answer position
        for (p, location) in rows.locations.enumerated() where results.done[p] {
            try gradient.withUnsafeMutableBufferPointer {
                try readers[location.file].read(rows: location.row..<(location.row + 1), firstPositionOnly: true, into: $0.baseAddress!)
            }
            for vector in 1..<v {
                let values = vectors.values[vector * d ..< (vector + 1) * d]
                for (j, layer) in vectors.layers.enumerated() {
                    var dot = 0.0
                    for (i, value) in values.enumerated() { dot += Double(value) * Double(gradient[layer * d + i]) }
                    estimate[(p * v + vector) * s + j] = dot
                }
            }
            for cell in 0..<(v * s) {
                let steered = (p * v * s + cell), none = p * v * s + cell % s
                switch metric {
                case "gold-logprob":
                    exact[steered] = Double(results.goldLogprob[steered]) - Double(results.goldLogprob[none])
                case "gold-prob":
                    exact[steered] = exp(Double(results.goldLogprob[steered])) - exp(Double(results.goldLogprob[none]))
                default:
                    func margin(_ at: Int) -> Double {
                        let logits = columns.map { Double(results.labelLogits[at * y + $0]) }
                        let gold = space.goldIndex[p]
                        let others = logits.indices.filter { $0 != gold }.map { logits[$0] }
                        return logits[gold] - others.reduce(0, +) / Double(others.count)
                    }
                    exact[steered] = columns.count > 1 ? margin(steered) - margin(none) : .nan
                }
            }
        }
        return .success(SteeringEstimate(set: set, results: results, metric: metric, estimate: estimate, exact: exact))
    }

    /// The pairs of one vector at one layer (index into the run's layers): estimate and exact per prompt.
    public func pairs(vector: Int, layer: Int) -> (estimate: [Double], exact: [Double]) {
        let v = results.vectors.count, s = results.vectors.layers.count
        let indices = results.done.indices.map { ($0 * v + vector) * s + layer }
        return (indices.map { estimate[$0] }, indices.map { exact[$0] })
    }
}
