import Shared

/// A GPT-2 checkpoint seen in the engine's conventions, so that the one weight assembler reads
/// it (the `sanitize` step of this architecture):
/// - names lose the `transformer.` prefix that GPT2LMHeadModel checkpoints carry (the original
///   OpenAI ones have none);
/// - Conv1D weights ([in, out], y = x · W + b) are transposed to [out, in] like nn.Linear's;
/// - the fused `attn.c_attn` ([D, 3D]: q, then k, then v columns) is presented as three
///   tensors `attn.c_attn.{q,k,v}.weight` ([D, D] each) and their biases.
struct GPT2TensorSource: TensorSource {
    let base: TensorSource
    private let baseName: [String: String]
    let tensorNames: [String]

    private static let prefix = "transformer."
    private static let conv1D = ["attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight"]
    private static let parts = ["q", "k", "v"]

    init(base: TensorSource) {
        self.base = base
        var names: [String: String] = [:]
        for name in base.tensorNames {
            let bare = name.hasPrefix(Self.prefix) ? String(name.dropFirst(Self.prefix.count)) : name
            if let kind = Self.fusedSuffix(bare) {
                let stem = bare.dropLast(kind.count + 1)
                for part in Self.parts { names["\(stem).\(part).\(kind)"] = name }
            } else {
                names[bare] = name
            }
        }
        baseName = names
        tensorNames = names.keys.sorted()
    }

    var path: String { base.path }

    func shape(of name: String) -> [Int]? {
        guard let original = baseName[name], let shape = base.shape(of: original) else { return nil }
        if fusedPart(name) != nil {
            // A c_attn whose width is not 3 x d_model is reported as it is, and refused by shape.
            guard let last = shape.last, last % 3 == 0 else { return shape }
            return shape.count == 2 ? [last / 3, shape[0]] : [last / 3]
        }
        return isConv1DWeight(name) && shape.count == 2 ? [shape[1], shape[0]] : shape
    }

    func floats(_ name: String) throws -> [Float] {
        guard let original = baseName[name], let shape = base.shape(of: original) else {
            throw InputError(file: path, "missing tensor \(name)")
        }
        let values = try base.floats(original)
        if let part = fusedPart(name), let columns = shape.last, columns % 3 == 0 {
            // c_attn: [D, 3D] (or its bias [3D]); part p is columns p*D ..< (p+1)*D, transposed.
            let width = columns / 3, rows = shape.count == 2 ? shape[0] : 1
            if shape.count == 1 { return Array(values[(part * width)..<((part + 1) * width)]) }
            return Self.transposed(values, rows: rows, columns: columns, from: part * width, count: width)
        }
        if isConv1DWeight(name), shape.count == 2 {
            return Self.transposed(values, rows: shape[0], columns: shape[1], from: 0, count: shape[1])
        }
        return values
    }

    /// "weight" or "bias" when `bare` is the fused c_attn tensor.
    private static func fusedSuffix(_ bare: String) -> String? {
        for kind in ["weight", "bias"] where bare.hasSuffix("attn.c_attn.\(kind)") { return kind }
        return nil
    }

    /// 0, 1, 2 for the q, k, v part of c_attn; nil for any other name.
    private func fusedPart(_ name: String) -> Int? {
        Self.parts.firstIndex { name.hasSuffix("attn.c_attn.\($0).weight") || name.hasSuffix("attn.c_attn.\($0).bias") }
    }

    private func isConv1DWeight(_ name: String) -> Bool {
        Self.conv1D.contains { name.hasSuffix($0) }
    }

    /// Columns [from, from + count) of a row-major [rows, columns] matrix, as a [count, rows] matrix.
    private static func transposed(_ values: [Float], rows: Int, columns: Int, from: Int, count: Int) -> [Float] {
        var out = [Float](repeating: 0, count: rows * count)
        for r in 0..<rows {
            for c in 0..<count { out[c * rows + r] = values[r * columns + from + c] }
        }
        return out
    }
}
