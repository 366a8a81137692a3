import Shared

/// What a prompt set does to the demonstrations' outputs. The queries, the demonstrations'
/// inputs and their order are the same in every variant with the same seed (zero-shot has
/// no demonstrations), so prompt i of a corrupted set pairs with prompt i of the clean one.
public enum PromptVariant: String, Sendable, Hashable, Codable, CaseIterable {
    /// Demonstrations as the task has them.
    case clean
    /// The demonstrations' outputs permuted among the demonstrations (the corrupted prompts
    /// of the function-vector score, Todd et al. 2024). The permutation is drawn again until
    /// it changes the sequence of outputs, unless all outputs are equal.
    case shuffledLabels
    /// Each demonstration's output replaced by a uniformly drawn label (classification) or by
    /// a uniformly drawn distinct output of the demonstration pool (open tasks); the draw
    /// may return the true output (Min et al. 2022).
    case randomLabels
    /// Each label word replaced by an abstract symbol, in the demonstrations and in the gold
    /// answer alike (Pan et al. 2023); classification tasks only.
    case abstractLabels
    /// No demonstrations: the query alone.
    case zeroShot
}

/// The symbols abstract labels use.
public enum AbstractSymbols: String, Sendable, Hashable, Codable, CaseIterable {
    /// "A", "B", ... (at most 26 labels). The default: with SmolLM2's tokenizer " A" is one
    /// token while " 0" is a bare space followed by the digit.
    case letters
    /// "0", "1", ...
    case numbers

    /// The first `count` symbols.
    public func symbols(_ count: Int) throws -> [String] {
        switch self {
        case .letters:
            guard count <= 26 else { throw InputError(file: nil, "\(count) labels are more than the 26 letters") }
            return (0..<count).map { String(UnicodeScalar(UInt8(ascii: "A") + UInt8($0))) }
        case .numbers:
            return (0..<count).map(String.init)
        }
    }
}
