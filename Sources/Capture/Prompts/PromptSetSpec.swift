import Shared

/// Everything that determines a prompt set: building the same spec on the same task file
/// gives byte-identical prompts on any machine.
public struct PromptSetSpec: Sendable, Hashable, Codable {
    /// The task's name.
    public var task: String
    public var variant: PromptVariant
    /// Demonstrations per prompt; zero-shot sets use 0 whatever this says.
    public var shots: Int
    /// The template's name; nil means the task's default template.
    public var template: String?
    /// How many prompts the set has.
    public var count: Int
    public var seed: UInt64
    /// The symbols of the abstractLabels variant.
    public var abstractSymbols: AbstractSymbols

    public init(task: String, variant: PromptVariant = .clean, shots: Int, template: String? = nil, count: Int,
                seed: UInt64, abstractSymbols: AbstractSymbols = .letters) {
        self.task = task
        self.variant = variant
        self.shots = shots
        self.template = template
        self.count = count
        self.seed = seed
        self.abstractSymbols = abstractSymbols
    }

    /// The number of demonstrations each prompt actually has.
    public var effectiveShots: Int {
        variant == .zeroShot ? 0 : shots
    }
}
