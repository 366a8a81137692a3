import Foundation
import Shared

/// One dump file opened for reading, checked against the format it claims (DumpLayout).
public final class DumpFile {
    public let path: String
    public let file: HDF5File
    public let formatVersion: String
    public let modelSHA256: String
    public let captureConfiguration: String
    /// "i/n"
    public let shard: String
    public let setNames: [String]
    public let probeNames: [String]

    public init(path: String) throws {
        let file = try HDF5File.open(path, mode: .readOnly)
        self.path = path
        self.file = file
        guard (try? file.attribute("format", as: String.self)) == DumpFormat.name else {
            throw InputError(file: path, "is not an \(DumpFormat.name) file (no format attribute)")
        }
        formatVersion = try file.attribute("format_version", as: String.self)
        let major = formatVersion.split(separator: ".").first.map(String.init)
        guard major == DumpSchema.majorVersion else {
            throw InputError(file: path, "has format version \(formatVersion); this tool reads \(DumpSchema.majorVersion).x")
        }
        modelSHA256 = try file.attribute("model_sha256", as: String.self)
        captureConfiguration = try file.attribute("capture_config", as: String.self)
        shard = try file.attribute("shard", as: String.self)
        setNames = file.exists("sets") ? try file.openGroup("sets").members(.group).map(\.name).sorted() : []
        probeNames = file.exists("probes") ? try file.openGroup("probes").members(.group).map(\.name).sorted() : []
        for name in setNames { try checkLayout(DumpLayout.promptSet, at: "sets/\(name)") }
        for name in probeNames { try checkLayout(DumpLayout.probeSet, at: "probes/\(name)") }
        try checkLayout(DumpLayout.model, at: "model")
    }

    /// Every non-optional dataset of `group` is there, with its dimensions in order.
    private func checkLayout(_ group: DumpGroup, at path: String) throws {
        for spec in group.datasets {
            let datasetPath = path + "/" + spec.name
            guard file.exists(datasetPath) else {
                if spec.optional { continue }
                throw InputError(file: self.path, "dataset /\(datasetPath) is missing")
            }
            let labels = try file.openDataset(datasetPath).dimensionLabels()
            guard labels == spec.dimensions.map(Optional.some) else {
                throw InputError(file: self.path, "dataset /\(datasetPath) has dimensions \(labels.map { $0 ?? "?" }), expected \(spec.dimensions)")
            }
        }
    }

    public func dataset(_ path: String) throws -> HDF5Dataset {
        try file.openDataset(path)
    }
}
