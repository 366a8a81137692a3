import Foundation
import Shared

/// A dump written value by value from a test's own arrays: every group, dimension scale and
/// required dataset of DumpLayout, zero where the test gives nothing, and the optional datasets
/// the test gives values for. For scores known in closed form.
struct HandMadeDump {
    var sizes: [String: Int]
    /// Values by dataset path ("model/W_O", "sets/s/z", ...), row-major.
    var floats: [String: [Float]] = [:]
    var ints: [String: [Int32]] = [:]
    var bytes: [String: [UInt8]] = [:]
    var setAttributes: [String: HDF5AttributeValue] = [:]
    let setName: String
    /// Further prompt sets of the same sizes: name -> attributes.
    var otherSets: [String: [String: HDF5AttributeValue]] = [:]
    /// Root attributes besides (or replacing) the fixed ones, e.g. gradient_metric.
    var rootAttributes: [String: String] = [:]

    init(setName: String, sizes: [String: Int]) {
        self.setName = setName
        self.sizes = sizes
    }

    func write(to path: String) throws {
        let file = try HDF5File.create(path)
        let root: [String: String] = [
            "format": DumpFormat.name, "format_version": DumpFormat.version, "created": "test", "tool_version": "test",
            "git_commit": "test", "model_path": "hand-made", "model_sha256": "0", "model_format": "test", "model_name": "hand-made",
            "architecture": "llama", "tokenizer": "none", "bos_policy": "forced on", "activation_dtype": "float32",
            "shard": "0/1", "capture_config": "{}", "definitions": "{}",
        ]
        for (name, value) in root.merging(rootAttributes, uniquingKeysWith: { $1 }) { try file.setAttribute(name, value) }
        var scales: [String: HDF5Dataset] = [:]
        for dimension in DumpLayout.root.dimensions { scales[dimension.name] = try file.createDimension(dimension.name, size: sizes[dimension.name]!) }
        let model = try file.createGroup("model")
        try model.setAttribute("vocabulary_size", sizes["vocabulary"]!)
        try model.setAttribute("kv_head_count", sizes["head"]!)
        try model.setAttribute("rms_norm_epsilon", 0.0)
        try model.setAttribute("tied_embeddings", 1)
        for dimension in DumpLayout.model.dimensions { scales[dimension.name] = try model.createDimension(dimension.name, size: sizes[dimension.name]!) }
        try fill(model, "model", DumpLayout.model, scales)
        for (name, attributes) in [(setName, setAttributes)] + otherSets.sorted(by: { $0.key < $1.key }) {
            let set = try file.createGroup("sets/\(name)")
            for (attribute, value) in attributes { try set.setAttribute(attribute, value) }
            for dimension in DumpLayout.promptSet.dimensions { scales[dimension.name] = try set.createDimension(dimension.name, size: sizes[dimension.name]!) }
            try fill(set, "sets/\(name)", DumpLayout.promptSet, scales)
        }
        try file.close()
    }

    private func fill(_ group: HDF5Group, _ path: String, _ layout: DumpGroup, _ scales: [String: HDF5Dataset]) throws {
        for spec in layout.datasets {
            let key = path + "/" + spec.name
            guard !spec.optional || floats[key] != nil else { continue }
            let shape = spec.dimensions.map { sizes[$0]! }
            let count = shape.reduce(1, *)
            let dataset: HDF5Dataset
            switch spec.type {
            case .activation, .float32:
                dataset = try group.createDataset(spec.name, of: .float32, shape: shape)
                try dataset.write(floats[key] ?? [Float](repeating: 0, count: count))
            case .int32:
                dataset = try group.createDataset(spec.name, of: .int32, shape: shape)
                try dataset.write(ints[key] ?? [Int32](repeating: 0, count: count))
            case .uint8:
                dataset = try group.createDataset(spec.name, of: .uint8, shape: shape)
                try dataset.write(bytes[key] ?? [UInt8](repeating: 0, count: count))
            case .string:
                dataset = try group.createDataset(spec.name, of: .variableLengthString, shape: shape)
                try dataset.writeStrings((0..<count).map { "t\($0)" })
            }
            try dataset.attachDimensionScales(spec.dimensions.map { scales[$0]! })
        }
    }
}
