import Foundation
import Shared

// Legend: B = prompts in the batch, C = captured positions, L = layers, H = heads, E = head_dim,
// D = d_model, N = tokens of the packed batch.

/// The gradient side of a capture with `--grads` (docs/methods.md §19.5). During the forward
/// pass it keeps z of every token, which the all-position z · dM/dz sums read when the reverse
/// pass reaches each layer; from the reverse pass it keeps dM/dz and dM/d resid at the
/// captured positions, dM/dz summed over every token, and the per-head sums.
final class GradientCapture {
    let request: GradientRequest
    private let positions: [[Int]]
    private let layers: Int, heads: Int, headDim: Int, width: Int
    /// z of every token, per layer: [L][N, H, E]
    private var z: [[Float]]
    private var gradZ: [Float]              // [B, C, L, H, E]
    private var gradResid: [Float]          // [B, C, L + 1, D]
    private var gradZPositionSum: [Float]   // [B, L, H, E]
    private var zgradAnswer: [Float]        // [B, L, H]
    private var zgradAllPositions: [Float]  // [B, L, H]

    /// positions[b]: token indices captured for prompt b (the answer position first). Adds the
    /// z hooks it needs to `hooks`, the forward pass's.
    init(config: ModelConfig, positions: [[Int]], hooks: Hooks) {
        let b = positions.count, c = positions.first?.count ?? 1
        layers = config.layerCount
        heads = config.headCount
        headDim = config.headDim
        width = config.hiddenSize
        self.positions = positions
        request = .headsAndResidual(layers: layers)
        z = Array(repeating: [], count: layers)
        gradZ = [Float](repeating: 0, count: b * c * layers * heads * headDim)
        gradResid = [Float](repeating: 0, count: b * c * (layers + 1) * width)
        gradZPositionSum = [Float](repeating: 0, count: b * layers * heads * headDim)
        zgradAnswer = [Float](repeating: 0, count: b * layers * heads)
        zgradAllPositions = [Float](repeating: 0, count: b * layers * heads)
        for layer in 0..<layers {
            hooks.add(.z(layer)) { [unowned self] tensor in z[layer] = Array(tensor.values) }
        }
    }

    /// The reverse pass's receiver.
    func receive(_ gradient: GradientTensor) {
        let c = positions.first?.count ?? 1
        switch gradient.point {
        case .z(let layer):
            let rowWidth = heads * headDim
            copy(gradient, width: rowWidth, into: &gradZ) { prompt, position in
                ((prompt * c + position) * layers + layer) * rowWidth
            }
            sumProducts(z[layer], gradient, layer: layer)
            sumOverPositions(gradient, layer: layer)
            z[layer] = []
        case .residPre(let layer):
            copy(gradient, width: width, into: &gradResid) { prompt, position in
                ((prompt * c + position) * (layers + 1) + layer) * width
            }
        case .residFinal:
            copy(gradient, width: width, into: &gradResid) { prompt, position in
                ((prompt * c + position) * (layers + 1) + layers) * width
            }
        default:
            break
        }
    }

    /// Hands the batch's gradients to the staged rows. `values`: M of each prompt; where
    /// `defined[b]` is false (no gold token) the prompt's rows become NaN.
    func store(into rows: inout CapturedRows, values: [Double], defined: [Bool]) {
        let perPromptZ = gradZ.count / max(positions.count, 1), perPromptResid = gradResid.count / max(positions.count, 1)
        let perPromptHeads = layers * heads, perPromptSum = perPromptHeads * headDim
        for (b, isDefined) in defined.enumerated() where !isDefined {
            for i in (b * perPromptZ)..<((b + 1) * perPromptZ) { gradZ[i] = .nan }
            for i in (b * perPromptSum)..<((b + 1) * perPromptSum) { gradZPositionSum[i] = .nan }
            for i in (b * perPromptResid)..<((b + 1) * perPromptResid) { gradResid[i] = .nan }
            for i in (b * perPromptHeads)..<((b + 1) * perPromptHeads) {
                zgradAnswer[i] = .nan
                zgradAllPositions[i] = .nan
            }
        }
        rows.gradMetric = zip(values, defined).map { $1 ? Float($0) : .nan }
        rows.gradZ = gradZ
        rows.gradResid = gradResid
        rows.gradZPositionSum = gradZPositionSum
        rows.headZgradAnswer = zgradAnswer
        rows.headZgradAllPositions = zgradAllPositions
    }

    /// Copies `width` values of the packed rows at each prompt's captured positions to
    /// `destination(prompt, position)`.
    private func copy(_ tensor: GradientTensor, width: Int, into target: inout [Float],
                      destination: (Int, Int) -> Int) {
        target.withUnsafeMutableBufferPointer { target in
            for (prompt, span) in tensor.layout.sequences.enumerated() {
                for (position, token) in positions[prompt].enumerated() {
                    let source = tensor.values.baseAddress! + (span.rowStart + token) * width
                    (target.baseAddress! + destination(prompt, position)).update(from: source, count: width)
                }
            }
        }
    }

    /// Per prompt: dM/dz of every head summed over the prompt's tokens, in Double (mean ablation
    /// at every position puts the same mean at each token, so only this sum meets it).
    /// dz: [N, H, E]
    private func sumOverPositions(_ dz: GradientTensor, layer: Int) {
        let rowWidth = heads * headDim
        var sum = [Double](repeating: 0, count: rowWidth)
        for (prompt, span) in dz.layout.sequences.enumerated() {
            for i in 0..<rowWidth { sum[i] = 0 }
            for row in span.rowStart..<(span.rowStart + span.tokenCount) {
                let start = row * rowWidth
                for i in 0..<rowWidth { sum[i] += Double(dz.values[start + i]) }
            }
            let target = (prompt * layers + layer) * rowWidth
            for i in 0..<rowWidth { gradZPositionSum[target + i] = Float(sum[i]) }
        }
    }

    /// Per prompt and head: z_h · dM/dz_h at the answer position, and summed over every token.
    /// z, dz: [N, H, E]. Sums run in Double: a prompt's tokens can cancel.
    private func sumProducts(_ z: [Float], _ dz: GradientTensor, layer: Int) {
        let e = headDim, rowWidth = heads * headDim
        z.withUnsafeBufferPointer { z in
            for (prompt, span) in dz.layout.sequences.enumerated() {
                let answer = span.rowStart + positions[prompt][0]
                for head in 0..<heads {
                    var all = 0.0, atAnswer = 0.0
                    for row in span.rowStart..<(span.rowStart + span.tokenCount) {
                        let start = row * rowWidth + head * e
                        var dot = 0.0
                        for i in start..<(start + e) { dot += Double(z[i]) * Double(dz.values[i]) }
                        all += dot
                        if row == answer { atAnswer = dot }
                    }
                    zgradAnswer[(prompt * layers + layer) * heads + head] = Float(atAnswer)
                    zgradAllPositions[(prompt * layers + layer) * heads + head] = Float(all)
                }
            }
        }
    }
}

extension PlannedSet {
    /// What prompt `row` is scored against with `--grads`. A prompt without a gold token is
    /// scored against token 0, and its rows are stored as NaN.
    func metricTarget(row: Int) -> MetricTarget {
        MetricTarget(gold: max(goldTokens[row], 0), labels: labelIDs)
    }
}
