import Foundation
import TestSupport
import XCTest

/// A copy of a Hugging Face fixture folder whose model.safetensors has every name passed
/// through `rename` and, appended, one 4-float tensor per name of `extraTensors`: checkpoints
/// as other writers name them, from the committed fixtures.
func rewrittenCheckpoint(of fixture: URL, extraTensors: [String], rename: (String) -> String) throws -> TemporaryDirectory {
    let directory = try TemporaryDirectory()
    for name in ["config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json"] {
        try FileManager.default.copyItem(at: fixture.appendingPathComponent(name), to: directory.url.appendingPathComponent(name))
    }
    let bytes = try Data(contentsOf: fixture.appendingPathComponent("model.safetensors"))
    let headerLength = Int(bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }.littleEndian)
    let header = try XCTUnwrap(JSONSerialization.jsonObject(with: bytes.subdata(in: 8..<(8 + headerLength))) as? [String: Any])
    var payload = bytes.subdata(in: (8 + headerLength)..<bytes.count)
    var rewritten: [String: Any] = [:]
    for (name, entry) in header { rewritten[name == "__metadata__" ? name : rename(name)] = entry }
    for name in extraTensors {
        let start = payload.count
        payload += Data(count: 16)
        rewritten[name] = ["dtype": "F32", "shape": [4], "data_offsets": [start, start + 16]]
    }
    var json = try JSONSerialization.data(withJSONObject: rewritten, options: [.sortedKeys])
    json += Data(repeating: 0x20, count: (8 - json.count % 8) % 8)
    var file = Data()
    withUnsafeBytes(of: UInt64(json.count).littleEndian) { file += $0 }
    try directory.write(file + json + payload, to: "model.safetensors")
    return directory
}
