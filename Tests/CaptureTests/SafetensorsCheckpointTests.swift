import Capture
import Foundation
import Shared
import TestSupport
import XCTest

final class SafetensorsCheckpointTests: XCTestCase {
    private let sharded = Fixtures.url("safetensors/sharded")

    func testShardedCheckpointsReadEveryTensorFromItsShard() throws {
        let checkpoint = try SafetensorsCheckpoint(directory: sharded)
        let expected = try ExpectedTensor.load("safetensors/sharded/expected.json")
        XCTAssertEqual(checkpoint.tensorNames, expected.keys.sorted())
        XCTAssertTrue(checkpoint.tensorNames.contains("model.layers.1.self_attn.k_proj.weight"))
        var shards = Set<String>()
        for (name, tensor) in expected {
            let info = try XCTUnwrap(checkpoint.info(name), name)
            XCTAssertEqual(info.shape, tensor.shape, name)
            XCTAssertEqual(info.dtype, .bf16, name)
            assertSameBits(try checkpoint.floats(name), try XCTUnwrap(tensor.float32Bits), name)
            shards.insert(try XCTUnwrap(checkpoint.file(containing: name)).path)
        }
        XCTAssertEqual(shards.map { URL(fileURLWithPath: $0).lastPathComponent }.sorted(),
                       ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"])
    }

    func testShardedCheckpointsMatchTheirConfig() throws {
        let checkpoint = try SafetensorsCheckpoint(directory: sharded)
        let config = try ModelConfig(huggingFaceConfigAt: sharded.appendingPathComponent("config.json"))
        XCTAssertEqual(checkpoint.info("model.embed_tokens.weight")?.shape, [config.vocabularySize, config.hiddenSize])
        XCTAssertEqual(checkpoint.info("model.layers.0.self_attn.k_proj.weight")?.shape,
                       [config.kvHeadCount * config.headDim, config.hiddenSize])
    }

    func testASingleFileCheckpointReadsModelSafetensors() throws {
        let directory = Fixtures.url("safetensors/dtypes")
        let checkpoint = try SafetensorsCheckpoint(directory: directory)
        let file = try SafetensorsFile(path: directory.appendingPathComponent("model.safetensors").path)
        XCTAssertEqual(checkpoint.tensorNames, file.tensors.keys.sorted())
        XCTAssertEqual(try checkpoint.floats("bf16_matrix"), try file.floats("bf16_matrix"))
        XCTAssertEqual(checkpoint.info("f16_3d")?.shape, [2, 3, 4])
        XCTAssertNil(checkpoint.info("absent"))
        assertInputError(try checkpoint.floats("absent"), file: directory.path, mentions: ["\"absent\""])
    }

    func testADirectoryWithoutWeightsIsRejected() throws {
        let directory = try TemporaryDirectory()
        assertInputError(try SafetensorsCheckpoint(directory: directory.url), file: directory.url.path,
                         mentions: ["model.safetensors"])
    }

    /// A copy of the sharded fixture whose index is replaced by `index`.
    private func shardedCopy(index: String) throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory()
        for shard in ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"] {
            try FileManager.default.copyItem(at: sharded.appendingPathComponent(shard),
                                             to: directory.url.appendingPathComponent(shard))
        }
        try directory.write(Data(index.utf8), to: "model.safetensors.index.json")
        return directory
    }

    func testAMissingShardIsRejectedNamingIt() throws {
        let directory = try shardedCopy(index: #"{"weight_map": {"lm_head.weight": "model-00003-of-00003.safetensors"}}"#)
        let shard = directory.url.appendingPathComponent("model-00003-of-00003.safetensors").path
        assertInputError(try SafetensorsCheckpoint(directory: directory.url), file: shard,
                         mentions: ["does not exist", "lm_head.weight"])
    }

    func testAWeightMapNamingATensorAbsentFromItsShardIsRejected() throws {
        let directory = try shardedCopy(index: #"{"weight_map": {"lm_head.weight": "model-00001-of-00002.safetensors"}}"#)
        let shard = directory.url.appendingPathComponent("model-00001-of-00002.safetensors").path
        assertInputError(try SafetensorsCheckpoint(directory: directory.url), file: shard,
                         mentions: ["\"lm_head.weight\"", "model.safetensors.index.json"])
    }

    func testMalformedIndexesAndShardPathsOutsideTheDirectoryAreRejected() throws {
        for index in [#"{"weight_map": "#, #"{"metadata": {}}"#, #"{"weight_map": {"a": 3}}"#] {
            let directory = try shardedCopy(index: index)
            let path = directory.url.appendingPathComponent("model.safetensors.index.json").path
            assertInputError(try SafetensorsCheckpoint(directory: directory.url), file: path,
                             mentions: ["not a valid safetensors index"], index)
        }
        for shard in ["../model-00001-of-00002.safetensors", "/etc/passwd", ""] {
            let directory = try shardedCopy(index: #"{"weight_map": {"lm_head.weight": "\#(shard)"}}"#)
            let path = directory.url.appendingPathComponent("model.safetensors.index.json").path
            assertInputError(try SafetensorsCheckpoint(directory: directory.url), file: path,
                             mentions: ["not a file in this directory"], shard)
        }
    }

    func testACorruptShardIsRejectedNamingTheShard() throws {
        let directory = try shardedCopy(index: #"{"weight_map": {"lm_head.weight": "model-00002-of-00002.safetensors"}}"#)
        let shard = try directory.write(Data([1, 0, 0]), to: "model-00002-of-00002.safetensors")
        assertInputError(try SafetensorsCheckpoint(directory: directory.url), file: shard, mentions: ["too short"])
    }
}
