import CKernels
import Foundation

/// Rotary position embedding in Hugging Face's rotate_half convention: dimension i of a head
/// pairs with i + E/2 (llama.cpp's "normal" RoPE pairs adjacent dimensions instead; the GGUF
/// loader undoes the row permutation that convention needs, so one convention serves both).
/// With partial rotary (GPT-NeoX) only the first R = rotaryDimensions dimensions of a head
/// rotate, i pairing with i + R/2, and dimensions R..<E pass through (docs/methods.md §25).
struct RotaryEmbedding: Sendable {
    /// inverse frequencies: [R / 2]
    let inverseFrequencies: [Float]
    let headDim: Int
    /// R: the rotated dimensions at the start of each head.
    let rotaryDim: Int

    /// `theta`: the base, when not the config's global `ropeTheta` (Gemma 3's local layers).
    init(config: ModelConfig, frequencyFactors: [Float]?, theta: Float? = nil) {
        headDim = config.headDim
        rotaryDim = config.rotaryDimensions
        let half = rotaryDim / 2
        let base = theta ?? config.ropeTheta
        // As transformers computes it, in fp32: 1 / base^(2i / R).
        var inverse = (0..<half).map { i -> Float in
            1 / powf(base, Float(2 * i) / Float(config.rotaryDimensions))
        }
        if let factors = frequencyFactors {
            inverse = zip(inverse, factors).map { $0 / $1 }
        } else if let scaling = config.ropeScaling {
            inverse = Self.llama3Scaled(inverse, scaling)
        }
        inverseFrequencies = inverse
    }

    /// Llama 3.1 scaling (transformers' `_compute_llama3_parameters`): long wavelengths are
    /// divided by `factor`, short ones kept, the band between interpolated smoothly.
    private static func llama3Scaled(_ inverse: [Float], _ s: ModelConfig.Llama3RopeScaling) -> [Float] {
        let original = Float(s.originalMaxPositionEmbeddings)
        let lowFrequencyWavelength = original / s.lowFrequencyFactor
        let highFrequencyWavelength = original / s.highFrequencyFactor
        return inverse.map { frequency in
            let wavelength = 2 * Float.pi / frequency
            if wavelength < highFrequencyWavelength { return frequency }
            if wavelength > lowFrequencyWavelength { return frequency / s.factor }
            let smooth = (original / wavelength - s.lowFrequencyFactor)
                / (s.highFrequencyFactor - s.lowFrequencyFactor)
            return (1 - smooth) * frequency / s.factor + smooth * frequency
        }
    }

    /// cos and sin tables for `count` positions from `start`: [count, R / 2] each.
    func table(start: Int, count: Int) -> (cos: [Float], sin: [Float]) {
        let half = rotaryDim / 2
        var cosines = [Float](repeating: 0, count: count * half)
        var sines = [Float](repeating: 0, count: count * half)
        for t in 0..<count {
            let position = Float(start + t)
            for i in 0..<half {
                let angle = position * inverseFrequencies[i]
                cosines[t * half + i] = cosf(angle)
                sines[t * half + i] = sinf(angle)
            }
        }
        return (cosines, sines)
    }

    /// Rotates the first R values of `heads` consecutive heads of E values in each of `count`
    /// rows in place: q * cos + rotate_half(q) * sin, rotate_half(q) = [-q2, q1], each product
    /// rounded before the sum as in torch. rows: [count, stride], the heads starting at column 0.
    func apply(_ rows: UnsafeMutablePointer<Float>, stride: Int, count: Int, heads: Int,
               cos: [Float], sin: [Float]) {
        icl_rotary(rows, stride, count, heads, headDim, rotaryDim / 2, cos, sin)
    }
}
