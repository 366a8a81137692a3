import Capture
import Shared

/// A small random model with every optional feature switched on (GQA, q/k/v and output
/// biases, llama3 RoPE scaling, untied unembedding), for engine tests that need no files.
enum SyntheticModel {
    static let config = ModelConfig(
        architecture: .llama, vocabularySize: 53, hiddenSize: 16, layerCount: 3, headCount: 4,
        kvHeadCount: 2, headDim: 6, intermediateSize: 24, normEpsilon: 1e-5, ropeTheta: 10000,
        ropeScaling: .init(factor: 4, lowFrequencyFactor: 1, highFrequencyFactor: 4, originalMaxPositionEmbeddings: 16),
        contextLength: 256, attentionQKVBias: true, attentionOutputBias: true, tiedEmbeddings: false)

    static func make(seed: UInt64 = 7) throws -> Transformer {
        var random = SplitMix64(seed: seed)
        let c = config
        func buffer(_ count: Int, scale: Float, offset: Float = 0) -> FloatBuffer {
            FloatBuffer((0..<count).map { _ in offset + scale * random.nextSignedUnit() })
        }
        let d = c.hiddenSize, w = (c.headCount + 2 * c.kvHeadCount) * c.headDim, f = c.intermediateSize
        let layers = (0..<c.layerCount).map { _ in
            LayerWeights(attentionNorm: buffer(d, scale: 0.2, offset: 1), qkv: buffer(w * d, scale: 0.5),
                         qkvBias: buffer(w, scale: 0.2), output: buffer(d * c.attentionWidth, scale: 0.5),
                         outputBias: buffer(d, scale: 0.1), mlpNorm: buffer(d, scale: 0.2, offset: 1),
                         gateUp: buffer(2 * f * d, scale: 0.5), down: buffer(d * f, scale: 0.5))
        }
        let weights = ModelWeights(embedding: buffer(c.vocabularySize * d, scale: 1), layers: layers,
                                   finalNorm: buffer(d, scale: 0.2, offset: 1),
                                   unembedding: buffer(c.vocabularySize * d, scale: 1), ropeFrequencyFactors: nil)
        return try Transformer(config: c, weights: weights, source: "synthetic")
    }

    /// The same sizes as GPT-2: MHA, LayerNorm with bias, learned positions, GELU MLP with
    /// biases, biases on every projection, tied unembedding.
    static let gpt2Config = ModelConfig(
        architecture: .gpt2, vocabularySize: 53, hiddenSize: 16, layerCount: 3, headCount: 4,
        kvHeadCount: 4, headDim: 4, intermediateSize: 24, normEpsilon: 1e-5, ropeTheta: 10000, ropeScaling: nil,
        contextLength: 64, attentionQKVBias: true, attentionOutputBias: true, tiedEmbeddings: true)

    static func makeGPT2(seed: UInt64 = 9) throws -> Transformer {
        var random = SplitMix64(seed: seed)
        let c = gpt2Config
        func buffer(_ count: Int, scale: Float, offset: Float = 0) -> FloatBuffer {
            FloatBuffer((0..<count).map { _ in offset + scale * random.nextSignedUnit() })
        }
        let d = c.hiddenSize
        let layers = biasedBlocks(c, buffer)
        let embedding = buffer(c.vocabularySize * d, scale: 1)
        let weights = ModelWeights(embedding: embedding, layers: layers, finalNorm: buffer(d, scale: 0.2, offset: 1),
                                   finalNormBias: buffer(d, scale: 0.2),
                                   positionEmbedding: buffer(c.contextLength * d, scale: 0.5),
                                   unembedding: embedding, ropeFrequencyFactors: nil)
        return try Transformer(config: c, weights: weights, source: "synthetic-gpt2")
    }

    /// GPT-NeoX-style: MHA, LayerNorm with bias, RoPE on half of each head (4 of 8
    /// dimensions), the exact GELU MLP with biases, untied unembedding; a parallel residual or
    /// a sequential one.
    static func neoXConfig(parallelResidual: Bool) -> ModelConfig {
        var c = ModelConfig(
            architecture: .gptNeoX, vocabularySize: 53, hiddenSize: 16, layerCount: 3, headCount: 2,
            kvHeadCount: 2, headDim: 8, intermediateSize: 24, normEpsilon: 1e-5, ropeTheta: 10000, ropeScaling: nil,
            contextLength: 64, attentionQKVBias: true, attentionOutputBias: true, tiedEmbeddings: false)
        c.rotaryDim = 4
        c.parallelResidual = parallelResidual
        return c
    }

    static func makeNeoX(parallelResidual: Bool = true, seed: UInt64 = 13) throws -> Transformer {
        var random = SplitMix64(seed: seed)
        let c = neoXConfig(parallelResidual: parallelResidual)
        func buffer(_ count: Int, scale: Float, offset: Float = 0) -> FloatBuffer {
            FloatBuffer((0..<count).map { _ in offset + scale * random.nextSignedUnit() })
        }
        let d = c.hiddenSize
        let layers = biasedBlocks(c, buffer)
        let weights = ModelWeights(embedding: buffer(c.vocabularySize * d, scale: 1), layers: layers,
                                   finalNorm: buffer(d, scale: 0.2, offset: 1), finalNormBias: buffer(d, scale: 0.2),
                                   unembedding: buffer(c.vocabularySize * d, scale: 1), ropeFrequencyFactors: nil)
        return try Transformer(config: c, weights: weights, source: "synthetic-neox")
    }

    /// LayerNorm blocks with biases on every projection and an unfused MLP (GPT-2, GPT-NeoX),
    /// drawn from `buffer(count, scale, offset)`.
    private static func biasedBlocks(_ c: ModelConfig, _ buffer: (Int, Float, Float) -> FloatBuffer) -> [LayerWeights] {
        let d = c.hiddenSize, w = 3 * c.attentionWidth, f = c.intermediateSize
        return (0..<c.layerCount).map { _ in
            LayerWeights(attentionNorm: buffer(d, 0.2, 1), attentionNormBias: buffer(d, 0.2, 0),
                         qkv: buffer(w * d, 0.5, 0), qkvBias: buffer(w, 0.2, 0),
                         output: buffer(d * c.attentionWidth, 0.5, 0), outputBias: buffer(d, 0.1, 0),
                         mlpNorm: buffer(d, 0.2, 1), mlpNormBias: buffer(d, 0.2, 0),
                         gateUp: buffer(f * d, 0.5, 0), gateUpBias: buffer(f, 0.3, 0),
                         down: buffer(d * f, 0.5, 0), downBias: buffer(d, 0.1, 0))
        }
    }

    static func tokens(_ count: Int, seed: UInt64) -> [Int32] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { _ in Int32(random.next() % UInt64(config.vocabularySize)) }
    }
}
