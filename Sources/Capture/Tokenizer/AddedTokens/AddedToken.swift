/// A token matched whole in the raw text before any pre-tokenization: tokenizer.json
/// `added_tokens`, or GGUF control (type 3) and user-defined (type 4) tokens.
struct AddedToken: Sendable {
    var content: String
    var id: Int32
    /// Whether it is special (skipped by "skip special tokens"); a non-special added token still splits.
    var special: Bool
    /// Absorbs the whitespace on its left (HF `lstrip`).
    var leftStrip: Bool = false
    /// Absorbs the whitespace on its right (HF `rstrip`).
    var rightStrip: Bool = false
    /// Matches only when no letter, digit or "_" touches it (HF `single_word`).
    var singleWord: Bool = false
}

/// A piece of text between added tokens, or an added token.
enum TextSegment: Equatable {
    /// `atStart` says whether the piece begins the original text (Metaspace's "first" prefix).
    case text(String, atStart: Bool)
    case token(Int32)
}
