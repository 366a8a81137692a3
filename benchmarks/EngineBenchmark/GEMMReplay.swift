import Capture
import Shared

/// The forward pass's weight GEMMs alone, with the real weights and shapes and nothing else,
/// on OpenBLAS: the BLAS rate the engine is measured against. The engine's own products run on
/// the packed kernel where the CPU has AVX2 (docs/methods.md §22.4), so the forward's share of
/// this rate can pass 100%.
struct GEMMReplay {
    let model: Transformer
    let tokens: Int
    private let input: FloatBuffer
    private let output: FloatBuffer

    init(model: Transformer, tokens: Int) {
        self.model = model
        self.tokens = tokens
        let c = model.config
        let widest = max(c.hiddenSize, (c.headCount + 2 * c.kvHeadCount) * c.headDim, 2 * c.intermediateSize, c.attentionWidth)
        input = FloatBuffer((0..<(tokens * widest)).map { Float($0 % 13) / 13 - 0.5 })
        output = FloatBuffer(count: tokens * widest)
    }

    /// (out, in, rows) of every GEMM of one forward with logits at the last position.
    private var shapes: [(Int, Int, Int)] {
        let c = model.config
        let layer = [((c.headCount + 2 * c.kvHeadCount) * c.headDim, c.hiddenSize, tokens),
                     (c.hiddenSize, c.attentionWidth, tokens),
                     (2 * c.intermediateSize, c.hiddenSize, tokens),
                     (c.hiddenSize, c.intermediateSize, tokens)]
        return Array(repeatElement(layer, count: c.layerCount).joined()) + [(c.vocabularySize, c.hiddenSize, 1)]
    }

    var flops: Double { shapes.reduce(0) { $0 + 2 * Double($1.0 * $1.1 * $1.2) } }

    func run() {
        let layers = model.weights.layers
        var index = 0
        for (out, inner, rows) in shapes {
            let weight: FloatBuffer
            if index == shapes.count - 1 {
                weight = model.weights.unembedding
            } else {
                let layer = layers[index / 4]
                weight = [layer.qkv, layer.output, layer.gateUp, layer.down][index % 4]
            }
            BLAS.matmulTransposedB(input.pointer, lda: inner, weight.pointer, ldb: inner, output.pointer,
                                   ldc: out, m: rows, n: out, k: inner)
            index += 1
        }
    }
}
