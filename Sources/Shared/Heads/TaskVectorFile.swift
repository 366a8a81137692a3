import Foundation

// Legend: D = d_model, P = scoring prompts.

/// Task vectors, as `icl-analyze vector` writes them and `icl-capture intervene --steer` reads
/// them (docs/methods.md §16): per head set, the sum over its heads of each head's mean output
/// at the answer position over a set's prompts, with the model and the prompts it came from.
///
///     {"format": "icl-heads-task-vector", "version": 1,
///      "model": {"sha256": ..., "name": ..., "dModel": D, "layers": L, "heads": H},
///      "source": {"dump": [...], "set": ..., "task": ..., "template": ..., "promptIndex": [...],
///                 "queries": [[token ids], ...], "headsFile": ..., "headsFileSHA256": ...},
///      "definition": ..., "vectors": [{"name": ..., "kind": ..., "family": ..., "heads": [[l, h], ...], "norm": ..., "values": [D floats]}]}
public struct TaskVectorFile: Sendable, Codable {
    public static let formatName = "icl-heads-task-vector"
    public static let currentVersion = 1

    public struct Model: Sendable, Codable, Equatable {
        public let sha256: String
        public let name: String
        public let dModel: Int
        public let layers: Int
        public let heads: Int

        public init(sha256: String, name: String, dModel: Int, layers: Int, heads: Int) {
            self.sha256 = sha256
            self.name = name
            self.dModel = dModel
            self.layers = layers
            self.heads = heads
        }
    }

    /// Where the means come from: the scoring prompts, which steering should not be evaluated on.
    public struct Source: Sendable, Codable, Equatable {
        public let dump: [String]
        public let set: String
        public let task: String
        public let template: String
        /// prompt_index of every prompt the means were taken over: [P]
        public let promptIndex: [Int32]
        /// The query input's token ids of each of those prompts (token_ids over query_span): [P][tokens]
        public let queries: [[Int32]]
        public let headsFile: String
        public let headsFileSHA256: String

        public init(dump: [String], set: String, task: String, template: String, promptIndex: [Int32],
                    queries: [[Int32]], headsFile: String, headsFileSHA256: String) {
            self.dump = dump
            self.set = set
            self.task = task
            self.template = template
            self.promptIndex = promptIndex
            self.queries = queries
            self.headsFile = headsFile
            self.headsFileSHA256 = headsFileSHA256
        }
    }

    public struct Vector: Sendable, Codable, Equatable {
        public let name: String
        public let kind: HeadSet.Kind
        /// What the head set is: "tr", "tl" (or another score's name) for the top set by that
        /// score, "random" for a random control set, "other" for anything else. Files written
        /// before it was recorded lack it: `resolvedFamily` infers it from the name and kind.
        public let family: String?
        public let heads: [HeadID]
        /// Euclidean norm of `values`.
        public let norm: Double
        /// [D]
        public let values: [Float]

        public init(name: String, kind: HeadSet.Kind, family: String? = nil, heads: [HeadID], values: [Float]) {
            self.name = name
            self.kind = kind
            self.family = family
            self.heads = heads
            self.values = values
            norm = values.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
        }

        /// `family`, or for older files the family `HeadSetFamily.of` gives the name and kind.
        public var resolvedFamily: String { family ?? HeadSetFamily.of(name: name, kind: kind, score: nil) }
    }

    public let format: String
    public let version: Int
    public let model: Model
    public let source: Source
    public let definition: String
    public let vectors: [Vector]

    public init(model: Model, source: Source, definition: String, vectors: [Vector]) {
        format = Self.formatName
        version = Self.currentVersion
        self.model = model
        self.source = source
        self.definition = definition
        self.vectors = vectors
    }

    /// Reads and checks a file: its format, one value per model channel in every vector, all
    /// finite, distinct names.
    public static func read(path: String) throws -> TaskVectorFile {
        guard let data = FileManager.default.contents(atPath: path) else { throw InputError(file: path, "cannot be read") }
        let file: TaskVectorFile
        do {
            file = try JSONDecoder().decode(TaskVectorFile.self, from: data)
        } catch {
            throw InputError(file: path, "is not a task-vector file (icl-analyze vector --out): \(Self.describe(error))")
        }
        guard file.format == formatName else { throw InputError(file: path, "has format \"\(file.format)\", not \"\(formatName)\"") }
        guard file.version == currentVersion else {
            throw InputError(file: path, "has task-vector version \(file.version); this tool reads version \(currentVersion)")
        }
        guard !file.vectors.isEmpty else { throw InputError(file: path, "holds no vectors") }
        var names = Set<String>()
        for vector in file.vectors {
            guard vector.values.count == file.model.dModel else {
                throw InputError(file: path, "vector \(vector.name) has \(vector.values.count) values, but its model's d_model is \(file.model.dModel)")
            }
            guard vector.values.allSatisfy(\.isFinite) else { throw InputError(file: path, "vector \(vector.name) holds a non-finite value") }
            guard names.insert(vector.name).inserted else { throw InputError(file: path, "names vector \(vector.name) twice") }
        }
        return file
    }

    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw InputError(file: path, "cannot be written: \(error.localizedDescription)")
        }
    }

    private static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "no \"\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))\""
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "\"\(context.codingPath.map(\.stringValue).joined(separator: "."))\" has the wrong type"
        case DecodingError.dataCorrupted(let context):
            return context.debugDescription
        default:
            return "\(error)"
        }
    }
}
