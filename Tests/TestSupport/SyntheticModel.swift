import Shared

// Legend: L = layers, H = heads, E = d_head, D = d_model, V = vocabulary, N = stored rows.

/// The fake model's weights: the ones a dump stores (/model) and what the fake forward pass
/// needs besides. Scales are picked so that the residual stream grows over the layers as in
/// a real model and label logits spread over a few units.
struct SyntheticModel {
    let spec: SyntheticModelSpec
    let planted: SyntheticPlantedHeads
    let wO: [Float]               // [L, H, E, D]
    let bO: [Float]?              // [L, D]
    let finalNormWeight: [Float]  // [D]
    /// g of the attention output norm (spec.attentionOutputNorm), else nil.
    let outputNormGain: [Float]?  // [L, D]
    /// Attention score offset per head and key category (SyntheticKeyCategory order).
    let attentionBias: [Float]    // [L, H, 5]
    private let seed: UInt64

    static let outputScale: Float = 0.3
    static let unembeddingScale: Float = 0.1
    static let mlpScale: Float = 0.5
    /// How far the label heads together move the gold label's logit, in standard deviations
    /// of the label logits' noise.
    static let labelSignal: Float = 2.5
    /// How far each label head's z is pushed along its gold direction (see `labelSignal`).
    let labelPush: Float

    init(spec: SyntheticModelSpec, seed: UInt64) {
        self.spec = spec
        self.seed = seed
        planted = SyntheticPlantedHeads(model: spec, seed: seed)
        let l = spec.layers, h = spec.heads, e = spec.dHead, d = spec.dModel
        var rng = SplitMix64.synthetic(seed, .weights)
        var wO = [Float](repeating: 0, count: l * h * e * d)
        wO.withUnsafeMutableBufferPointer { rng.fillNormalish($0, scale: Self.outputScale / Float(e).squareRoot()) }
        self.wO = wO
        if spec.outputBias {
            var bias = [Float](repeating: 0, count: l * d)
            bias.withUnsafeMutableBufferPointer { rng.fillNormalish($0, scale: 0.1) }
            bO = bias
        } else {
            bO = nil
        }
        finalNormWeight = (0..<d).map { _ in 1 + 0.2 * rng.nextNormalish() }
        outputNormGain = spec.attentionOutputNorm ? (0..<(l * d)).map { _ in 1 + 0.2 * rng.nextNormalish() } : nil
        var bias = [Float](repeating: 0, count: l * h * SyntheticKeyCategory.count)
        for i in 0..<(l * h) {
            for c in SyntheticKeyCategory.allCases { bias[i * SyntheticKeyCategory.count + c.rawValue] = rng.nextNormalish() }
            // BOS is an attention sink, as in real models.
            bias[i * SyntheticKeyCategory.count + SyntheticKeyCategory.special.rawValue] += 2
        }
        for head in planted.label {
            bias[(head.layer * h + head.head) * SyntheticKeyCategory.count + SyntheticKeyCategory.demoOutputs.rawValue] += 4
        }
        attentionBias = bias
        // A label head adds about labelPush * sqrt(E) * outputScale * s noise standard deviations
        // to the gold logit, s = 1/rms(resid_final) = 1/sqrt(1 + L H outputScale^2 + L mlpScale^2).
        let expectedScale = 1 / (1 + Float(l * h) * Self.outputScale * Self.outputScale
                                 + Float(l) * Self.mlpScale * Self.mlpScale).squareRoot()
        labelPush = Self.labelSignal / (Float(planted.label.count) * Float(e).squareRoot() * Self.outputScale * expectedScale)
    }

    /// b_O, or zeros for a model without the bias.
    var outputBiasOrZero: [Float] { bO ?? [Float](repeating: 0, count: spec.layers * spec.dModel) }

    var kvHeads: [Int32] {
        let group = spec.heads / spec.kvHeads
        return (0..<spec.heads).map { Int32($0 / group) }
    }

    /// Unembedding rows of `ids`, each drawn from its token's own stream so that a row is the
    /// same whether or not the dump stores the whole vocabulary.
    func unembedding(rows ids: [Int32]) -> [Float] {   // [N, D]
        let d = spec.dModel
        var rows = [Float](repeating: 0, count: ids.count * d)
        rows.withUnsafeMutableBufferPointer { all in
            ComputeThreads.forEach(ids.count) { i in
                var rng = SplitMix64.synthetic(seed, .unembedding, UInt64(ids[i]))
                rng.fillNormalish(UnsafeMutableBufferPointer(rebasing: all[(i * d)..<((i + 1) * d)]), scale: Self.unembeddingScale)
            }
        }
        return rows
    }
}
