import Foundation
import Shared

// Legend: V = steering vectors ("none" first), S = steering layers, D = d_model.

/// A steering run's vectors and layers (/interventions/{name} of kind steering, docs/methods.md
/// §16): names, families, the values as added and the layers they were added at. Every file of a
/// capture holding the run must hold the same.
public struct SteeringVectors: Sendable {
    public let names: [String]                 // [V]
    /// "none", "tr", "tl", "random", ...: steer_vector_family (format 1.3), else inferred from
    /// the name (HeadSetFamily.of: "top_<score>" is that score's, "random..." random).
    public let families: [String]              // [V]
    /// Whether `families` was read from the run (1.3) rather than inferred from the names.
    public let familiesRecorded: Bool
    public let values: [Float]                 // [V, D]
    public let layers: [Int]                   // [S]
    public let dModel: Int

    init(file: DumpFile, group: String, others: [DumpFile]) throws {
        for required in ["steer_vector_name", "steer_vector_values", "steer_layer_index"] where !file.has("\(group)/\(required)") {
            throw InputError(file: file.path, "dataset /\(group)/\(required) is missing (a steering run stores it)")
        }
        let names = try file.dataset("\(group)/steer_vector_name").readStrings()
        guard names.first == "none", Set(names).count == names.count else {
            throw InputError(file: file.path, "/\(group)/steer_vector_name must start with \"none\" and name each vector once")
        }
        let values = try file.read("\(group)/steer_vector_values", as: Float.self)
        guard values.allSatisfy(\.isFinite), values.prefix(values.count / names.count).allSatisfy({ $0 == 0 }) else {
            throw InputError(file: file.path, "/\(group)/steer_vector_values holds a non-finite value, or vector \"none\" is not zero")
        }
        let layers = try file.read("\(group)/steer_layer_index", as: Int32.self).map(Int.init)
        let modelLayers = file.size("layer")
        guard layers.allSatisfy({ (0..<modelLayers).contains($0) }), Set(layers).count == layers.count else {
            throw InputError(file: file.path, "/\(group)/steer_layer_index holds a layer outside 0..<\(modelLayers) or one twice")
        }
        if file.has("\(group)/steer_vector_family") {
            let families = try file.dataset("\(group)/steer_vector_family").readStrings()
            guard families.first == "none" else { throw InputError(file: file.path, "/\(group)/steer_vector_family must start with \"none\"") }
            self.families = families
            familiesRecorded = true
        } else {
            families = ["none"] + names.dropFirst().map {
                HeadSetFamily.of(name: $0, kind: $0.hasPrefix("random") ? .random : .named, score: nil)
            }
            familiesRecorded = false
        }
        for other in others {
            guard try other.dataset("\(group)/steer_vector_name").readStrings() == names,
                  try other.read("\(group)/steer_vector_values", as: Float.self) == values,
                  try other.read("\(group)/steer_layer_index", as: Int32.self).map(Int.init) == layers else {
                throw InputError(file: other.path, "/\(group) holds other vectors or layers than \(file.path)'s run of that name")
            }
        }
        self.names = names
        self.values = values
        self.layers = layers
        dModel = values.count / names.count
    }

    public var count: Int { names.count }

    /// Euclidean norm of vector `v` as added.
    public func norm(_ v: Int) -> Double {
        values[v * dModel ..< (v + 1) * dModel].reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
    }
}
