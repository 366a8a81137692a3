import Capture
import Shared
import XCTest

final class ModelConfigTests: XCTestCase {
    private func config(heads: Int, kvHeads: Int) -> ModelConfig {
        ModelConfig(architecture: .llama, vocabularySize: 10, hiddenSize: 8, layerCount: 1,
                    headCount: heads, kvHeadCount: kvHeads, headDim: 4, intermediateSize: 16,
                    normEpsilon: 1e-5, ropeTheta: 10000, ropeScaling: nil, contextLength: 32,
                    attentionQKVBias: false, attentionOutputBias: false, tiedEmbeddings: true)
    }

    func testGroupedQueryHeadsMapToAdjacentKVHeads() throws {
        let c = config(heads: 6, kvHeads: 2)
        try c.validate(source: "x")
        XCTAssertEqual((0..<6).map(c.kvHead(forQueryHead:)), [0, 0, 0, 1, 1, 1])
    }

    func testIndivisibleHeadCountsAreRejectedWithTheFileName() {
        XCTAssertThrowsError(try config(heads: 5, kvHeads: 2).validate(source: "bad.gguf")) { error in
            XCTAssertEqual((error as? InputError)?.file, "bad.gguf")
        }
    }
}
