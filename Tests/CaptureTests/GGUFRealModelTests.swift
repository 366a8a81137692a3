import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// The default model (models/SmolLM2-135M-Instruct.Q4_1.gguf) when scripts/setup-model has placed
/// it, against Tests/Fixtures/gguf/real_model.expected.json, computed by gguf-py's GGUFReader and
/// dequantize.
final class GGUFRealModelTests: XCTestCase {
    private struct Expected: Decodable {
        struct Sample: Decodable {
            let index: Int
            let bits: UInt32
        }

        struct Tensor: Decodable {
            let name: String
            let dimensions: [Int]
            let type: String
            let offset: Int
            let byte_count: Int
            let element_count: Int
            let sum: Double
            let sum_of_squares: Double
            let weighted_bit_checksum: UInt64
            let samples: [Sample]
        }

        let tensor_count: Int
        let metadata_count: Int
        let data_offset: Int
        let architecture: String
        let block_count: Int
        let token_count: Int
        let first_tokens: [String]
        let rms_epsilon_bits: UInt32
        let tensors: [Tensor]
    }

    private func load() throws -> (GGUFFile, Expected) {
        guard let model = Fixtures.defaultModel else { throw XCTSkip("default model not present (scripts/setup-model)") }
        let expected = try JSONDecoder().decode(Expected.self,
                                                from: Data(contentsOf: Fixtures.url("gguf/real_model.expected.json")))
        return (try GGUFFile(path: model.path), expected)
    }

    func testHeaderAndMetadata() throws {
        let (file, expected) = try load()
        XCTAssertEqual(file.version, 3)
        XCTAssertEqual(file.alignment, 32)
        XCTAssertEqual(file.tensors.count, expected.tensor_count)
        XCTAssertEqual(file.tensors.count, 272)
        XCTAssertEqual(file.metadataKeys.count, expected.metadata_count)
        XCTAssertEqual(file.dataOffset, expected.data_offset)
        XCTAssertEqual(try file.string("general.architecture"), "llama")
        XCTAssertEqual(try file.string("general.architecture"), expected.architecture)
        XCTAssertEqual(try file.int("llama.block_count"), 30)
        XCTAssertEqual(try file.int("llama.block_count"), expected.block_count)
        XCTAssertEqual(try file.float("llama.attention.layer_norm_rms_epsilon").bitPattern, expected.rms_epsilon_bits)
        let tokens = try XCTUnwrap(file.optionalStringArray("tokenizer.ggml.tokens"))
        XCTAssertEqual(tokens.count, expected.token_count)
        XCTAssertEqual(Array(tokens.prefix(expected.first_tokens.count)), expected.first_tokens)
        XCTAssertEqual(try file.optionalIntArray("tokenizer.ggml.token_type")?.count, expected.token_count)
    }

    func testQ8_0EmbeddingAndQ4_1ProjectionMatchGGUFPy() throws {
        let (file, expected) = try load()
        for want in expected.tensors {
            let tensor = try XCTUnwrap(file.tensorInfo(named: want.name))
            XCTAssertEqual(tensor.dimensions, want.dimensions)
            XCTAssertEqual(tensor.type.name, want.type)
            XCTAssertEqual(tensor.offset, want.offset)
            XCTAssertEqual(tensor.byteCount, want.byte_count)
            let values = try file.dequantize(tensor)
            XCTAssertEqual(values.count, want.element_count)
            for sample in want.samples {
                XCTAssertEqual(values[sample.index].bitPattern, sample.bits, "\(want.name)[\(sample.index)]")
            }
            let summary = Self.summarize(values)
            XCTAssertEqual(summary.checksum, want.weighted_bit_checksum, want.name)
            // The fixture's sums are exact (math.fsum); a plain float64 sum of n terms is off by at
            // most n·ε·Σ|x| ≤ n·ε·√(n·Σx²). The checksum above is what proves the values exact.
            let n = Double(values.count)
            let bound = n * Double.ulpOfOne * (n * want.sum_of_squares).squareRoot()
            XCTAssertEqual(summary.sum, want.sum, accuracy: bound, want.name)
            XCTAssertEqual(summary.sumOfSquares, want.sum_of_squares, accuracy: n * Double.ulpOfOne * want.sum_of_squares, want.name)
        }
    }

    /// Σ bits[i]·(i + 1) mod 2^64, which any changed value changes, and the float64 sums of the
    /// values and their squares; one pass over raw pointers to stay quick in debug builds.
    private static func summarize(_ values: [Float]) -> (checksum: UInt64, sum: Double, sumOfSquares: Double) {
        values.withUnsafeBufferPointer { buffer in
            var checksum: UInt64 = 0, weight: UInt64 = 0
            var sum = 0.0, sumOfSquares = 0.0
            for value in buffer {
                weight &+= 1
                checksum &+= UInt64(value.bitPattern) &* weight
                let wide = Double(value)
                sum += wide
                sumOfSquares += wide * wide
            }
            return (checksum, sum, sumOfSquares)
        }
    }
}
