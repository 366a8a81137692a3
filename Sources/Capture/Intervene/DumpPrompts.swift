import Foundation
import Shared

// Legend: P = rows of a set in the dump, L = layers, H = heads, E = head_dim, Y = labels.

/// One prompt set of a dump, as the capture ran it: the stored token ids are exactly what the
/// model saw (BOS policy, template and tokenizer applied), so interventions rerun those rather
/// than rebuilding prompts from task files that may have changed since.
public struct DumpPromptSet: Sendable {
    public let name: String
    public let task: String
    public let variant: String
    public let shots: Int
    public let template: String
    public let kind: TaskKind
    /// token ids of each row: [P][tokens]
    public let tokens: [[Int32]]
    /// Rows the capture finished; the others hold no data and are skipped.
    public let done: [Bool]
    /// Each row's index in the whole set: [P]
    public let promptIndex: [Int32]
    /// First token of each row's gold answer: [P]
    public let goldTokens: [Int32]
    /// First token of each label: [Y]
    public let labelIDs: [Int32]

    public var rowCount: Int { tokens.count }
    public var doneRows: [Int] { done.indices.filter { done[$0] } }

    /// The clean set of the same task, shots and template (the partner of a corrupted set).
    public func isCleanPartner(of other: DumpPromptSet) -> Bool {
        variant == "clean" && task == other.task && shots == other.shots && template == other.template
    }
}

/// A dump opened read-only for interventions: its provenance, model shape and prompt sets.
public final class DumpPrompts {
    public let path: String
    public let modelSHA256: String
    public let modelPath: String
    public let layers: Int, heads: Int, headDim: Int, modelWidth: Int
    public let sets: [DumpPromptSet]
    private let file: HDF5File

    public init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw InputError(file: path, "does not exist") }
        let file = try HDF5File.open(path, mode: .readOnly)
        self.path = path
        self.file = file
        func root(_ name: String) throws -> String {
            guard let value = try? file.attribute(name, as: String.self) else {
                throw InputError(file: path, "has no root attribute \(name): not an \(DumpFormat.name) file")
            }
            return value
        }
        guard try root("format") == DumpFormat.name else { throw InputError(file: path, "is not an \(DumpFormat.name) file") }
        let version = try root("format_version")
        guard version.split(separator: ".").first.map(String.init) == DumpSchema.majorVersion else {
            throw InputError(file: path, "has format version \(version); this tool reads \(DumpSchema.majorVersion).x")
        }
        modelSHA256 = try root("model_sha256")
        modelPath = try root("model_path")
        func size(_ name: String) throws -> Int {
            guard file.exists(name), let extent = try file.openDataset(name).shape.first else {
                throw InputError(file: path, "has no dimension \(name)")
            }
            return extent
        }
        layers = try size("layer")
        heads = try size("head")
        headDim = try size("d_head")
        modelWidth = try size("d_model")
        let names = file.exists("sets") ? try file.openGroup("sets").members(.group).map(\.name) : []
        sets = try names.map { try Self.readSet($0, file: file, path: path) }
    }

    private static func readSet(_ name: String, file: HDF5File, path: String) throws -> DumpPromptSet {
        let group = try file.openGroup("sets/\(name)")
        func string(_ attribute: String) throws -> String {
            guard let value = try? group.attribute(attribute, as: String.self) else {
                throw InputError(file: path, "/sets/\(name) has no attribute \(attribute)")
            }
            return value
        }
        guard let kind = TaskKind(rawValue: try string("task_kind")) else {
            throw InputError(file: path, "/sets/\(name) has an unknown task_kind")
        }
        guard let shots = try? group.attribute("shots", as: Int.self) else {
            throw InputError(file: path, "/sets/\(name) has no attribute shots")
        }
        let ids = try group.openDataset("token_ids")
        let counts = try group.openDataset("token_count").read(as: Int32.self)
        guard ids.shape.count == 2, ids.shape[0] == counts.count else {
            throw InputError(file: path, "/sets/\(name)/token_ids has shape \(ids.shape), expected [\(counts.count), tokens]")
        }
        let flat = try ids.read(as: Int32.self), width = ids.shape[1]
        let tokens = try counts.enumerated().map { row, count -> [Int32] in
            guard count >= 1, Int(count) <= width else {
                throw InputError(file: path, "/sets/\(name)/token_count[\(row)] is \(count), outside 1...\(width)")
            }
            return Array(flat[(row * width)..<(row * width + Int(count))])
        }
        let done = try group.openDataset("done").read(as: UInt8.self).map { $0 == 1 }
        let promptIndex = try group.openDataset("prompt_index").read(as: Int32.self)
        let gold = try group.openDataset("gold_token").read(as: Int32.self)
        guard done.count == counts.count, promptIndex.count == counts.count, gold.count == counts.count else {
            throw InputError(file: path, "/sets/\(name): done, prompt_index and gold_token do not have one entry per prompt")
        }
        return DumpPromptSet(name: name, task: try string("task"), variant: try string("variant"), shots: shots,
                             template: try string("template"), kind: kind, tokens: tokens, done: done,
                             promptIndex: promptIndex, goldTokens: gold,
                             labelIDs: try group.openDataset("label_ids").read(as: Int32.self))
    }

    public func set(named name: String) -> DumpPromptSet? { sets.first { $0.name == name } }

    /// The clean set of the same task, shots and template as `set`, if the dump has one.
    public func cleanPartner(of set: DumpPromptSet) -> DumpPromptSet? {
        sets.first { $0.isCleanPartner(of: set) }
    }

    /// z at the answer position (captured position 0) of `rows` of `set`, widened to fp32
    /// from the dump's storage: [rows, L, H, E]
    public func answerZ(of set: DumpPromptSet, rows: [Int]) throws -> [Float] {
        let dataset = try file.openDataset("sets/\(set.name)/z")
        let shape = dataset.shape   // [P, C, L, H, E]
        guard shape.count == 5, shape[0] == set.rowCount, shape[2] == layers, shape[3] == heads, shape[4] == headDim else {
            throw InputError(file: path, "/sets/\(set.name)/z has shape \(shape), expected [\(set.rowCount), positions, \(layers), \(heads), \(headDim)]")
        }
        var result: [Float] = []
        result.reserveCapacity(rows.count * layers * heads * headDim)
        for row in rows {
            result += try dataset.read(as: Float.self, at: HDF5Hyperslab(start: [row, 0, 0, 0, 0],
                                                                         count: [1, 1, layers, heads, headDim]))
        }
        return result
    }

    public func close() throws { try file.close() }
}
