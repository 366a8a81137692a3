import Foundation
import Shared

/// A Hugging Face checkpoint folder (single or sharded safetensors) seen as a TensorSource.
struct SafetensorsTensorSource: TensorSource {
    let checkpoint: SafetensorsCheckpoint

    var path: String { checkpoint.directory.path }
    var tensorNames: [String] { checkpoint.tensorNames }
    func shape(of name: String) -> [Int]? { checkpoint.info(name)?.shape }
    func floats(_ name: String) throws -> [Float] { try checkpoint.floats(name) }
}
