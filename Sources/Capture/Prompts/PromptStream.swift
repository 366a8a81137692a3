import Shared

/// The purposes random numbers are drawn for; each gets its own derived seed
/// (`SplitMix64.derive(seed, stream, ...)`), so changing one never shifts another.
public enum PromptStream: UInt64, Sendable, CaseIterable {
    /// The query/demonstration split (seeded by the task name, not the set's seed).
    case split = 1
    /// The order queries are asked in: path (stream, round).
    case queryOrder = 2
    /// The demonstrations of prompt i: path (stream, i).
    case demonstrations = 3
    /// The label corruption of prompt i: path (stream, i).
    case variant = 4
    /// The abstract symbol each label gets: path (stream).
    case abstractSymbols = 5
    /// Induction probe sequence s: path (stream, s).
    case induction = 6
}
