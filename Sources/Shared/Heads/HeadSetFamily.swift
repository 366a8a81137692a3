/// What a head set stands for in a comparison of mechanisms (steering with TR, TL and random
/// vectors; docs/methods.md §16): the score whose top set it is, a random control, or other.
public enum HeadSetFamily {
    public static let random = "random"
    public static let other = "other"

    /// A set of a head-set file whose `score` (icl-analyze heads --json) is known: its top set
    /// "top_<score>" is that score's family, a random set is "random", anything else "other".
    /// Without the score, a name "top_<name>" is taken to be the top set of score <name>.
    public static func of(name: String, kind: HeadSet.Kind, score: String?) -> String {
        if kind == .random { return random }
        let prefix = "top_"
        guard name.hasPrefix(prefix), name.count > prefix.count else { return other }
        let named = String(name.dropFirst(prefix.count))
        if let score { return named == score ? score : other }
        return named
    }
}
