import Capture
import Foundation
import Shared
import TestSupport

/// Outputs of transformers (fp32, CPU, eager attention) for one model, written by
/// reference/make_model_fixtures.py: <model>.json describes the prompts, <model>.safetensors
/// holds the arrays (keys `p<i>.<what>[.<layer>]`, documented in reference/README.md).
struct ReferenceFixture {
    struct Prompt {
        let key: String
        let text: String
        let ids: [Int32]
    }

    let name: String
    let prompts: [Prompt]
    let eosTokenID: Int32?
    private let arrays: SafetensorsFile

    init(name: String) throws {
        self.name = name
        let json = Fixtures.url("reference/\(name).json")
        guard let object = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any],
              let prompts = object["prompts"] as? [[String: Any]] else {
            throw InputError(file: json.path, "not a reference fixture description")
        }
        self.prompts = prompts.compactMap { p in
            guard let key = p["key"] as? String, let text = p["text"] as? String, let ids = p["ids"] as? [Int] else { return nil }
            return Prompt(key: key, text: text, ids: ids.map(Int32.init))
        }
        eosTokenID = (object["eos_token_id"] as? Int).map(Int32.init)
        arrays = try SafetensorsFile(path: Fixtures.url("reference/\(name).safetensors").path)
    }

    func has(_ key: String) -> Bool { arrays.tensors[key] != nil }
    func floats(_ key: String) throws -> [Float] { try arrays.floats(key) }
    func ints(_ key: String) throws -> [Int32] { try arrays.int32s(key) }
}
