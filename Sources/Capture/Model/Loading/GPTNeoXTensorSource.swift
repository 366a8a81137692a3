import Shared

// Legend: H = heads, E = head_dim, D = d_model.

/// A GPT-NeoX checkpoint seen in the engine's conventions, so that the one weight assembler reads
/// it (the `sanitize` step of this architecture):
/// - the fused `attention.query_key_value` ([3D, D], rows laid out per head as [H, 3, E]: head h's
///   q rows, then its k rows, then its v rows, as GPTNeoXAttention views them) is presented as
///   three tensors `attention.query_key_value.{q,k,v}.weight` ([H * E, D] each, head-major) and
///   their biases;
/// - transformers 5.x saves the unembedding as `lm_head.weight`; Pythia checkpoints call it
///   `embed_out.weight`, the name the engine reads.
struct GPTNeoXTensorSource: TensorSource {
    let base: TensorSource
    let headCount: Int
    private let baseName: [String: String]
    let tensorNames: [String]

    private static let fused = "attention.query_key_value"
    private static let parts = ["q", "k", "v"]

    init(base: TensorSource, headCount: Int) {
        self.base = base
        self.headCount = headCount
        var names: [String: String] = [:]
        for name in base.tensorNames {
            if let kind = Self.fusedSuffix(name) {
                let stem = name.dropLast(kind.count + 1)
                for part in Self.parts { names["\(stem).\(part).\(kind)"] = name }
            } else if name == "lm_head.weight" {
                names["embed_out.weight"] = name
            } else {
                names[name] = name
            }
        }
        baseName = names
        tensorNames = names.keys.sorted()
    }

    var path: String { base.path }

    func shape(of name: String) -> [Int]? {
        guard let original = baseName[name], let shape = base.shape(of: original) else { return nil }
        // A fused tensor whose rows do not split into [H, 3, E] is reported as it is, and refused by shape.
        guard fusedPart(name) != nil, let rows = shape.first, rows % (3 * headCount) == 0 else { return shape }
        return [rows / 3] + shape.dropFirst()
    }

    func floats(_ name: String) throws -> [Float] {
        guard let original = baseName[name], let shape = base.shape(of: original) else {
            throw InputError(file: path, "missing tensor \(name)")
        }
        let values = try base.floats(original)
        guard let part = fusedPart(name), let rows = shape.first, rows % (3 * headCount) == 0 else { return values }
        // Rows [H, 3, E] -> part p of every head: rows h * 3E + p * E ..< h * 3E + (p + 1) * E.
        let e = rows / (3 * headCount), width = shape.dropFirst().reduce(1, *)
        var out: [Float] = []
        out.reserveCapacity(headCount * e * width)
        for h in 0..<headCount {
            let first = (h * 3 + part) * e * width
            out.append(contentsOf: values[first..<(first + e * width)])
        }
        return out
    }

    /// "weight" or "bias" when `name` is a fused query_key_value tensor.
    private static func fusedSuffix(_ name: String) -> String? {
        for kind in ["weight", "bias"] where name.hasSuffix("\(fused).\(kind)") { return kind }
        return nil
    }

    /// 0, 1, 2 for the q, k, v part of query_key_value; nil for any other name.
    private func fusedPart(_ name: String) -> Int? {
        Self.parts.firstIndex { name.hasSuffix("\(Self.fused).\($0).weight") || name.hasSuffix("\(Self.fused).\($0).bias") }
    }
}
