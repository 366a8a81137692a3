import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// Direct logit attribution is additive with the frozen final-norm scale: at every captured
/// position, resid_label_logits of the embedding is the embedding row's projection, and from
/// one layer to the next it grows by the layer's heads (head_label_logits summed over heads),
/// its output bias and its MLP output, each projected with the same scale. The bias and the
/// MLP outputs come from the model and a hooked forward pass, not from the dump. tiny-llama2
/// has an o_proj bias, tiny-llama3 none; tiny-gpt2 has a final LayerNorm, whose centring each
/// projection applies to its own component and whose beta · W_U[label] the streams carry;
/// tiny-gemma3 normalises its attention output, whose scale and gain each head's projection carries.
final class LabelProjectionAdditivityTests: XCTestCase {
    static let configuration = CaptureConfiguration(
        tasks: ["antonym", "sentiment"], variants: [.clean, .shuffledLabels], shots: [2], promptsPerSet: 3, seed: 11,
        positions: .labels, probeSequences: 0)
    static let tolerance = 1e-5

    func testHeadsBiasMLPAndEmbeddingAddUpToTheResidualProjections() throws {
        var worst = 0.0
        for name in ["tiny-llama3", "tiny-llama2", "tiny-gpt2", "tiny-gemma3"] { worst = max(worst, try check(name)) }
        print("label projections: heads + b_O + MLP vs resid_label_logits steps, worst relative difference \(worst)")
    }

    /// The worst difference relative to the largest |resid_label_logits| of the position.
    private func check(_ name: String) throws -> Double {
        let scratch = try ScratchDirectory("additivity")
        defer { scratch.remove() }
        let path = scratch.path("dump.h5")
        try TinyCapture.write(to: path, configuration: Self.configuration, model: name)
        let dump = try DumpSnapshot(path: path)
        let model = try LoadedModels.model(Fixtures.url("models/\(name)").path)
        let config = model.config, weights = model.transformer.weights
        let l = config.layerCount, h = config.headCount, d = config.hiddenSize
        XCTAssertEqual(weights.layers[0].outputBias != nil, ["tiny-llama2", "tiny-gpt2"].contains(name), "\(name): the o_proj bias this test expects")
        let layerNorm = config.architecture.normalization == .layer
        XCTAssertEqual(layerNorm, name == "tiny-gpt2")
        var worst = 0.0, positionsChecked = 0
        for set in dump.groupNames(under: "/sets") {
            let group = "/sets/" + set
            let tokens = try dump.dataset(group + "/token_ids"), counts = try dump.dataset(group + "/token_count").ints()
            let positions = try dump.dataset(group + "/positions"), scales = try dump.dataset(group + "/final_norm_scale").numbers
            let labelIDs = try dump.dataset(group + "/label_ids").ints()
            let heads = try dump.dataset(group + "/head_label_logits").numbers
            let streams = try dump.dataset(group + "/resid_label_logits").numbers
            let c = positions.shape[1], y = labelIDs.count
            for p in 0..<positions.shape[0] {
                let ids = tokens.row(p).prefix(counts[p]).map { Int32($0) }
                var mlp = [[Float]](repeating: [], count: l)   // [L][T * D]
                let hooks = Hooks()
                for layer in 0..<l { hooks.add(.mlpOut(layer)) { mlp[layer] = Array($0.values) } }
                _ = try model.transformer.forward(tokens: ids, logits: .none, hooks: hooks)
                for (ci, position) in positions.row(p).map({ Int($0) }).enumerated() {
                    let row = p * c + ci, scale = scales[row]
                    /// scale * (gamma ⊙ v) · W_U[label] for each label, v - mean(v) for LayerNorm: [Y]
                    func project(_ v: (Int) -> Double) -> [Double] {
                        let mean = layerNorm ? (0..<d).reduce(0.0) { $0 + v($1) } / Double(d) : 0
                        return labelIDs.map { id in
                            (0..<d).reduce(0.0) { $0 + scale * Double(weights.finalNorm[$1]) * (v($1) - mean) * Double(weights.unembedding[id * d + $1]) }
                        }
                    }
                    /// beta · W_U[label] of a final LayerNorm, which every stream carries: [Y]
                    let normBias = labelIDs.map { id in
                        weights.finalNormBias.map { beta in
                            (0..<d).reduce(0.0) { $0 + Double(beta[$1]) * Double(weights.unembedding[id * d + $1]) }
                        } ?? 0
                    }
                    func stream(_ r: Int) -> ArraySlice<Double> { streams[((row * (l + 1)) + r) * y..<((row * (l + 1)) + r + 1) * y] }
                    let magnitude = max(streams[(row * (l + 1) * y)..<((row + 1) * (l + 1) * y)].map(abs).max() ?? 0, 1e-30)
                    var differences: [Double] = []
                    let embeddingScale = Double(config.embeddingScale ?? 1)   // Gemma: sqrt(d_model)
                    let embedding = project { j in
                        embeddingScale * Double(weights.embedding[Int(ids[position]) * d + j])
                            + (weights.positionEmbedding.map { Double($0[position * d + j]) } ?? 0)
                    }
                    differences += zip(stream(0), zip(embedding, normBias).map(+)).map { abs($0 - $1) }
                    for layer in 0..<l {
                        let bias = weights.layers[layer].outputBias.map { b in project { Double(b[$0]) } } ?? Array(repeating: 0, count: y)
                        let mlpPart = project { Double(mlp[layer][position * d + $0]) }
                        for label in 0..<y {
                            let headSum = (0..<h).reduce(0.0) { $0 + heads[((row * l + layer) * h + $1) * y + label] }
                            let step = stream(layer + 1)[stream(layer + 1).startIndex + label] - stream(layer)[stream(layer).startIndex + label]
                            differences.append(abs(step - (headSum + bias[label] + mlpPart[label])))
                        }
                    }
                    let relative = (differences.max() ?? 0) / magnitude
                    worst = max(worst, relative)
                    XCTAssertLessThan(relative, Self.tolerance, "\(name) \(set) prompt \(p) position \(position)")
                    positionsChecked += 1
                }
            }
        }
        XCTAssertGreaterThan(positionsChecked, 12, name)
        return worst
    }
}
