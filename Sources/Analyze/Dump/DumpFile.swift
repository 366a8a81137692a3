import Foundation
import Shared

/// One dump file opened for reading, checked against the layout its format version promises
/// (DumpLayout): every dataset the analyzer may read has the shape its dimensions give and the
/// element type its layout type gives, before any value is read. Shapes come from the files'
/// dimension-scale datasets, not from HDF5's dimension labels: some one-byte corruptions crash
/// libhdf5 while it reads labels (`icl-analyze check` reads them after the checksum passed).
public final class DumpFile: @unchecked Sendable {
    public let path: String
    public let file: HDF5File
    public let formatVersion: String
    public let modelSHA256: String
    public let captureConfiguration: String
    public let shard: Shard
    /// .float32 or .float16: how `activation` datasets are stored.
    public let activationType: HDF5ElementType
    public let setNames: [String]
    public let probeNames: [String]
    /// The `icl-capture intervene` runs the file holds (format 1.2): groups under /interventions.
    public let interventionNames: [String]
    /// The model normalises each layer's attention output before the residual add (/model
    /// attention_output_norm "rms", format 1.4; Gemma 3): a head's write into the residual
    /// stream carries that norm's per-token scale and gain (docs/methods.md §26).
    public let attentionOutputNorm: Bool
    /// Extent of every dimension, per group path ("/", "model", "sets/<name>", "probes/<name>",
    /// "interventions/<run>", "interventions/<run>/sets/<name>"), the root's dimensions included in each.
    public let sizes: [String: [String: Int]]

    public init(path: String) throws {
        guard !path.isEmpty else { throw InputError(file: nil, "the dump path is empty") }
        guard FileManager.default.fileExists(atPath: path) else { throw InputError(file: path, "does not exist") }
        let file = try HDF5File.open(path, mode: .readOnly)
        self.path = path
        self.file = file
        func rootString(_ name: String) throws -> String {
            guard let value = try? file.attribute(name, as: String.self) else {
                throw InputError(file: path, "has no string attribute \(name) at the root")
            }
            return value
        }
        guard (try? file.attribute("format", as: String.self)) == DumpFormat.name else {
            throw InputError(file: path, "is not an \(DumpFormat.name) file (no format attribute)")
        }
        formatVersion = try rootString("format_version")
        let parts = formatVersion.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ Int($0) != nil }), String(parts[0]) == DumpSchema.majorVersion else {
            throw InputError(file: path, "has format version \"\(formatVersion)\"; this tool reads \(DumpSchema.majorVersion).x")
        }
        modelSHA256 = try rootString("model_sha256")
        captureConfiguration = try rootString("capture_config")
        let shardText = try rootString("shard")
        do {
            shard = try Shard(parsing: shardText)
        } catch let error as InputError {
            throw InputError(file: path, "root attribute shard: \(error.problem)")
        }
        switch try rootString("activation_dtype") {
        case "float32": activationType = .float32
        case "float16": activationType = .float16
        case let other: throw InputError(file: path, "root attribute activation_dtype is \"\(other)\", expected float32 or float16")
        }
        setNames = file.exists("sets") ? try file.openGroup("sets").members(.group).map(\.name).sorted() : []
        probeNames = file.exists("probes") ? try file.openGroup("probes").members(.group).map(\.name).sorted() : []
        guard file.exists("model") else { throw InputError(file: path, "has no /model group") }
        switch (try? file.openGroup("model").attribute("attention_output_norm", as: String.self)) ?? "none" {
        case "none": attentionOutputNorm = false
        case "rms": attentionOutputNorm = true
        case let other: throw InputError(file: path, "/model attention_output_norm is \"\(other)\", expected \"none\" or \"rms\"")
        }

        var sizes: [String: [String: Int]] = [:]
        let root = try Self.dimensionSizes(DumpLayout.root, at: "", in: file, path: path, inherited: [:])
        guard root["resid_layer"] == root["layer"]! + 1 else {
            throw InputError(file: path, "dimension resid_layer has \(root["resid_layer"]!) entries, expected layer + 1 = \(root["layer"]! + 1)")
        }
        sizes["/"] = root
        sizes["model"] = try Self.dimensionSizes(DumpLayout.model, at: "model", in: file, path: path, inherited: root)
        for name in setNames {
            sizes["sets/\(name)"] = try Self.dimensionSizes(DumpLayout.promptSet, at: "sets/\(name)", in: file, path: path, inherited: root)
        }
        for name in probeNames {
            sizes["probes/\(name)"] = try Self.dimensionSizes(DumpLayout.probeSet, at: "probes/\(name)", in: file, path: path, inherited: root)
        }
        let interventions = try InterventionGroups.sizes(in: file, path: path, captured: sizes, setNames: setNames)
        interventionNames = interventions.names
        sizes.merge(interventions.sizes) { _, new in new }
        self.sizes = sizes
        try checkDatasets(DumpLayout.model, at: "model")
        for name in setNames { try checkDatasets(DumpLayout.promptSet, at: "sets/\(name)") }
        for name in probeNames { try checkDatasets(DumpLayout.probeSet, at: "probes/\(name)") }
        for group in interventions.groups {
            try checkDatasets(group.isRun ? DumpLayout.intervention : DumpLayout.interventionSet, at: group.path)
        }
    }

    /// The extent of each of `group`'s dimensions, read from its 1-D dimension-scale datasets.
    private static func dimensionSizes(_ group: DumpGroup, at groupPath: String, in file: HDF5File, path: String,
                                       inherited: [String: Int]) throws -> [String: Int] {
        var sizes = inherited
        for dimension in group.dimensions {
            let scalePath = groupPath.isEmpty ? dimension.name : "\(groupPath)/\(dimension.name)"
            guard file.exists(scalePath) else {
                if dimension.name == "vocabulary" { continue }   // 1.0 dumps: no token_text, no vocabulary
                throw InputError(file: path, "dimension /\(scalePath) is missing")
            }
            let scale = try file.openDataset(scalePath)
            guard scale.shape.count == 1 else {
                throw InputError(file: path, "dimension /\(scalePath) has shape \(scale.shape), expected one axis")
            }
            sizes[dimension.name] = scale.shape[0]
        }
        return sizes
    }

    /// Every dataset of `group` the version requires is there; every one there has the shape
    /// and element type the layout gives.
    private func checkDatasets(_ group: DumpGroup, at groupPath: String) throws {
        let sizes = self.sizes[groupPath]!
        for spec in group.datasets {
            let datasetPath = groupPath + "/" + spec.name
            guard file.exists(datasetPath) else {
                if !spec.isRequired(inVersion: formatVersion) && !(attentionOutputNorm && spec.name.hasPrefix("attention_output_norm_")) {
                    continue
                }
                throw InputError(file: path, "dataset /\(datasetPath) is missing")
            }
            let dataset = try file.openDataset(datasetPath)
            if let absent = spec.dimensions.first(where: { sizes[$0] == nil }) {
                throw InputError(file: path, "dataset /\(datasetPath) uses dimension \(absent), which /\(groupPath) has no scale for")
            }
            let expectedShape = spec.dimensions.map { sizes[$0]! }
            guard dataset.shape == expectedShape else {
                throw InputError(file: path, "dataset /\(datasetPath) has shape \(dataset.shape), expected \(expectedShape) for \(spec.dimensions)")
            }
            let expectedType: HDF5ElementType
            switch spec.type {
            case .activation: expectedType = activationType
            case .float32: expectedType = .float32
            case .int32: expectedType = .int32
            case .uint8: expectedType = .uint8
            case .string: expectedType = .variableLengthString
            }
            guard dataset.elementType == expectedType else {
                throw InputError(file: path, "dataset /\(datasetPath) holds \(dataset.elementType), expected \(expectedType)")
            }
        }
    }

    public func size(_ dimension: String, in group: String = "/") -> Int { sizes[group]?[dimension] ?? 0 }

    public func has(_ datasetPath: String) -> Bool { file.exists(datasetPath) }

    public func dataset(_ path: String) throws -> HDF5Dataset {
        try file.openDataset(path)
    }

    /// A whole small dataset; its shape was checked when the file was opened.
    public func read<T: HDF5Element>(_ datasetPath: String, as type: T.Type = T.self) throws -> [T] {
        try file.openDataset(datasetPath).read(as: T.self)
    }

    public func stringAttribute(_ name: String, of group: String) throws -> String {
        guard let value = try? file.openGroup(group).attribute(name, as: String.self) else {
            throw InputError(file: path, "/\(group) has no string attribute \(name)")
        }
        return value
    }

    public func intAttribute(_ name: String, of group: String) throws -> Int {
        guard let value = try? file.openGroup(group).attribute(name, as: Int.self) else {
            throw InputError(file: path, "/\(group) has no integer attribute \(name)")
        }
        return value
    }

    public func stringsAttribute(_ name: String, of group: String) throws -> [String] {
        guard let value = try? file.openGroup(group).attribute(name, as: [String].self) else {
            throw InputError(file: path, "/\(group) has no string-list attribute \(name)")
        }
        return value
    }

    public func rootAttribute(_ name: String) -> String? { try? file.attribute(name, as: String.self) }
}
