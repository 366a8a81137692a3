import Capture
import Foundation
import Shared

/// The engine's forward pass written out naively in Double for one sequence, with a hook that
/// may change an activation before the rest of the pass reads it: the function whose central
/// differences check the reverse pass. Legend: T tokens, D = d_model, H heads, K KV heads,
/// E = head_dim, F = d_ff, V = vocabulary.
struct DoubleReferenceModel {
    /// Activations the hook sees: resid_pre [T, D], z [T, H * E], attention probabilities
    /// [H, T, T] (masked entries included, 0 unless changed), resid_final [T, D].
    enum Point: Hashable {
        case residPre(Int), z(Int), pattern(Int), residFinal
    }

    let config: ModelConfig
    let weights: ModelWeights

    init(_ model: Transformer) {
        config = model.config
        weights = model.weights
    }

    /// Logits of the last token: [V].
    func lastLogits(_ tokens: [Int32], change: (Point, inout [Double]) -> Void = { _, _ in }) -> [Double] {
        let t = tokens.count, d = config.hiddenSize, h = config.headCount, k = config.kvHeadCount
        let e = config.headDim, f = config.intermediateSize, w = (h + 2 * k) * e
        var x = tokens.flatMap { token in (0..<d).map { Double(weights.embedding[Int(token) * d + $0]) } }
        if let positions = weights.positionEmbedding { for i in 0..<(t * d) { x[i] += Double(positions[i]) } }
        let (cosines, sines) = ropeTables(count: t)
        let rotary = config.architecture.positions == .rotary
        for (l, layer) in weights.layers.enumerated() {
            change(.residPre(l), &x)
            var qkv = linear(norm(x, layer.attentionNorm, layer.attentionNormBias), layer.qkv, rows: t, input: d, output: w)
            if let bias = layer.qkvBias { for r in 0..<t { for i in 0..<w { qkv[r * w + i] += Double(bias[i]) } } }
            for r in 0..<t where rotary {
                for head in 0..<(h + k) {   // q heads, then k heads: rotate_half RoPE on their first R dims
                    let base = r * w + head * e, half = config.rotaryDimensions / 2
                    for i in 0..<half {
                        let a = qkv[base + i], b = qkv[base + i + half]
                        let c = cosines[r * half + i], s = sines[r * half + i]
                        qkv[base + i] = a * c - b * s
                        qkv[base + i + half] = b * c + a * s
                    }
                }
            }
            var z = [Double](repeating: 0, count: t * h * e)
            let window = config.attentionWindow(layer: l)
            for head in 0..<h {
                let g = config.kvHead(forQueryHead: head)
                var pattern = [Double](repeating: 0, count: t * t)
                for q in 0..<t {
                    // keys (q - window, q], or [0, q] without a window
                    let visible = (window.map { max(0, q - $0 + 1) } ?? 0)...q
                    var scores = visible.map { s in
                        (0..<e).reduce(0.0) { $0 + qkv[q * w + head * e + $1] * qkv[s * w + (h + g) * e + $1] }
                            / Double(e).squareRoot()
                    }
                    let maximum = scores.max()!
                    scores = scores.map { exp($0 - maximum) }
                    let sum = scores.reduce(0, +)
                    for (s, score) in zip(visible, scores) { pattern[q * t + s] = score / sum }
                }
                var all = [Double](repeating: 0, count: h * t * t)
                all.replaceSubrange((head * t * t)..<((head + 1) * t * t), with: pattern)
                change(.pattern(l), &all)
                for q in 0..<t {
                    for s in 0..<t {
                        let p = all[head * t * t + q * t + s]
                        for i in 0..<e { z[q * h * e + head * e + i] += p * qkv[s * w + (h + k + g) * e + i] }
                    }
                }
            }
            change(.z(l), &z)
            var attnOut = linear(z, layer.output, rows: t, input: h * e, output: d)
            if let bias = layer.outputBias { for r in 0..<t { for i in 0..<d { attnOut[r * d + i] += Double(bias[i]) } } }
            // A parallel residual's MLP reads the layer's input, before attn_out joins it.
            let parallelNormed = config.parallelResidual ? norm(x, layer.mlpNorm, layer.mlpNormBias) : nil
            for i in 0..<(t * d) { x[i] += attnOut[i] }
            let normed = parallelNormed ?? norm(x, layer.mlpNorm, layer.mlpNormBias)
            var act = [Double](repeating: 0, count: t * f)
            switch config.architecture.mlp {
            case .swiGLU:
                let gateUp = linear(normed, layer.gateUp, rows: t, input: d, output: 2 * f)
                for r in 0..<t {
                    for i in 0..<f {
                        let gate = gateUp[r * 2 * f + i]
                        act[r * f + i] = gate / (1 + exp(-gate)) * gateUp[r * 2 * f + f + i]
                    }
                }
            case .geGLU:
                preconditionFailure("no Gemma 3 block here: its gradients are checked against torch autograd (tiny-gemma3.grads)")
            case .gelu, .geluErf:
                let up = linear(normed, layer.gateUp, rows: t, input: d, output: f)
                for r in 0..<t {
                    for i in 0..<f {
                        let v = up[r * f + i] + Double(layer.gateUpBias![i])
                        act[r * f + i] = config.architecture.mlp == .gelu
                            ? 0.5 * v * (1 + tanh((2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v)))
                            : 0.5 * v * (1 + erf(v / 2.0.squareRoot()))
                    }
                }
            }
            var mlpOut = linear(act, layer.down, rows: t, input: f, output: d)
            if let bias = layer.downBias { for r in 0..<t { for i in 0..<d { mlpOut[r * d + i] += Double(bias[i]) } } }
            for i in 0..<(t * d) { x[i] += mlpOut[i] }
        }
        change(.residFinal, &x)
        let last = Array(norm(x, weights.finalNorm, weights.finalNormBias)[((t - 1) * d)..<(t * d)])
        return linear(last, weights.unembedding, rows: 1, input: d, output: config.vocabularySize)
    }

    /// The metric in Double (the definitions of AnswerMetric).
    static func metric(_ metric: AnswerMetric, logits: [Double], target: MetricTarget) -> Double {
        let gold = Int(target.gold)
        let maximum = logits.max()!
        let logSumExp = log(logits.reduce(0) { $0 + exp($1 - maximum) }) + maximum
        switch metric {
        case .goldLogProbability: return logits[gold] - logSumExp
        case .goldProbability: return exp(logits[gold] - logSumExp)
        case .labelMargin:
            let wrong = target.wrongLabels
            return logits[gold] - wrong.reduce(0) { $0 + logits[Int($1)] } / Double(wrong.count)
        }
    }

    /// RMSNorm, or LayerNorm (centred, biased variance, plus beta) when the model has it.
    private func norm(_ x: [Double], _ gamma: FloatBuffer, _ beta: FloatBuffer?) -> [Double] {
        let d = config.hiddenSize, layer = config.architecture.normalization == .layer
        var out = x
        for r in 0..<(x.count / d) {
            let row = x[(r * d)..<((r + 1) * d)]
            let mean = layer ? row.reduce(0, +) / Double(d) : 0
            let s = 1 / (row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(d) + Double(config.normEpsilon)).squareRoot()
            for i in 0..<d {
                out[r * d + i] = Double(gamma[i]) * (x[r * d + i] - mean) * s + (beta.map { Double($0[i]) } ?? 0)
            }
        }
        return out
    }

    /// x · W^T, W stored [output, input].
    private func linear(_ x: [Double], _ weight: FloatBuffer, rows: Int, input: Int, output: Int) -> [Double] {
        var out = [Double](repeating: 0, count: rows * output)
        for r in 0..<rows {
            for o in 0..<output {
                var sum = 0.0
                for i in 0..<input { sum += x[r * input + i] * Double(weight[o * input + i]) }
                out[r * output + o] = sum
            }
        }
        return out
    }

    /// cos and sin of position * inverse frequency, [T, R / 2] each (R the rotated dimensions);
    /// Llama 3.1 scaling as transformers' `_compute_llama3_parameters` applies it.
    private func ropeTables(count: Int) -> ([Double], [Double]) {
        let rotated = config.rotaryDimensions, half = rotated / 2
        let frequencies = (0..<half).map { i -> Double in
            let frequency = 1 / pow(Double(config.ropeTheta), Double(2 * i) / Double(rotated))
            guard let s = config.ropeScaling else { return frequency }
            let original = Double(s.originalMaxPositionEmbeddings)
            let wavelength = 2 * Double.pi / frequency
            if wavelength < original / Double(s.highFrequencyFactor) { return frequency }
            if wavelength > original / Double(s.lowFrequencyFactor) { return frequency / Double(s.factor) }
            let smooth = (original / wavelength - Double(s.lowFrequencyFactor))
                / Double(s.highFrequencyFactor - s.lowFrequencyFactor)
            return (1 - smooth) * frequency / Double(s.factor) + smooth * frequency
        }
        var cosines: [Double] = [], sines: [Double] = []
        for position in 0..<count {
            for frequency in frequencies {
                cosines.append(cos(Double(position) * frequency))
                sines.append(sin(Double(position) * frequency))
            }
        }
        return (cosines, sines)
    }
}
