/// A token matched whole in the raw text before any pre-tokenization: tokenizer.json
/// `added_tokens` (special or not, HF splits both out), or GGUF control, unknown and
/// user-defined tokens.
struct AddedToken: Sendable {
    var content: String
    var id: Int32
    /// Absorbs the whitespace on its left (HF `lstrip`).
    var leftStrip: Bool = false
    /// Absorbs the whitespace on its right (HF `rstrip`).
    var rightStrip: Bool = false
    /// Matches only when no letter, digit or "_" touches it (HF `single_word`).
    var singleWord: Bool = false
}

/// A piece of text between added tokens, or an added token, with where it lies in the text.
enum TextSegment: Equatable {
    /// `atStart` says whether the piece begins the original text (Metaspace's "first" prefix);
    /// `offset` is the UTF-8 offset of its first byte.
    case text(String, atStart: Bool, offset: Int)
    /// `bytes` include the whitespace an `lstrip` or `rstrip` token absorbs, as in HF.
    case token(Int32, bytes: Range<Int>)
}
