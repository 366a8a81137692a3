import Shared

// Legend: L = layers, H = heads, E = head_dim, M = clean prompts.

/// The mean z of every head at the answer position over a clean set's finished prompts, read
/// from the dump (docs/methods.md §14): what mean ablation and the CIE put in a head's place.
/// For the clean set's own prompts the mean leaves the prompt out (METHODS: means come from
/// prompts other than the one evaluated).
public struct CleanMean: Sendable {
    public let set: DumpPromptSet
    /// Rows of the clean set that entered the mean, and their prompt_index: [M]
    public let rows: [Int]
    public var promptIndex: [Int32] { rows.map { set.promptIndex[$0] } }
    /// Sum of z over those rows, in Double: [L, H, E]
    private let sum: [Double]
    /// z of each of those rows, for leave-one-out means: [M, L, H, E]
    private let z: [Float]
    private let width: Int

    public init(set: DumpPromptSet, dump: DumpPrompts) throws {
        self.set = set
        rows = set.doneRows
        width = dump.layers * dump.heads * dump.headDim
        guard !rows.isEmpty else { throw InputError(file: dump.path, "clean set \(set.name) has no finished prompt to take a mean from") }
        let z = try dump.answerZ(of: set, rows: rows)
        var sum = [Double](repeating: 0, count: width)
        for r in rows.indices { for i in 0..<width { sum[i] += Double(z[r * width + i]) } }
        self.sum = sum
        self.z = z
    }

    /// The mean over every row: [L, H, E]
    public var mean: [Float] { sum.map { Float($0 / Double(rows.count)) } }

    /// The mean over every row but `row` (a row of the clean set): [L, H, E]
    public func mean(leavingOut row: Int) -> [Float] {
        guard let m = rows.firstIndex(of: row) else { return mean }
        let n = Double(rows.count - 1)
        return (0..<width).map { Float((sum[$0] - Double(z[m * width + $0])) / n) }
    }
}
