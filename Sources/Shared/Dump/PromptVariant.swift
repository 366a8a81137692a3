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

extension PromptVariant {
    /// The variant's name in set names and the dump's `variant` attribute (snake_case).
    public var dumpName: String {
        rawValue.reduce(into: "") { name, character in
            if character.isUppercase { name += "_" + character.lowercased() } else { name.append(character) }
        }
    }

    /// The variant a dump names (`shuffled_labels`), or nil.
    public init?(dumpName: String) {
        guard let variant = Self.allCases.first(where: { $0.dumpName == dumpName }) else { return nil }
        self = variant
    }
}

extension PromptVariant {
    /// The command line's spelling (`shuffled-labels`).
    public var argumentName: String { String(dumpName.map { $0 == "_" ? "-" : $0 }) }

    /// The variant a command line names, in its own spelling or the dump's: `shuffled-labels`
    /// and `shuffled_labels` are the same variant.
    public init?(argument: String) {
        self.init(dumpName: String(argument.map { $0 == "-" ? "_" : $0 }))
    }
}
