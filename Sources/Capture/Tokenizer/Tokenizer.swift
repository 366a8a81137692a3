/// Text to token ids and back, identical to the Hugging Face tokenizer of the model.
public protocol Tokenizer: Sendable {
    var vocabularySize: Int { get }
    var bosTokenID: Int32? { get }
    var eosTokenID: Int32? { get }
    /// Whether the model's own configuration prepends BOS (GGUF tokenizer.ggml.add_bos_token;
    /// tokenizer.json post_processor).
    var addsBOSByDefault: Bool { get }
    /// A one-line description for `inspect`, e.g. "byte-level BPE, pre-tokenizer smollm, 49152 tokens".
    var summary: String { get }
    /// Special-token text inside `text` (e.g. "<|im_start|>") becomes that special token, as HF does by default.
    func encode(_ text: String, addBOS: Bool) -> [Int32]
    /// The ids of `encode(text, addBOS:)`, each with the bytes of `text` it stands for (see `TokenSpan`).
    func encodeWithOffsets(_ text: String, addBOS: Bool) -> [TokenSpan]
    func decode(_ ids: [Int32]) -> String
    /// The vocabulary entry as text a person can read: byte-level pieces decoded (" Paris"),
    /// SentencePiece's "▁" as a space, special tokens as written, and bytes that are not valid
    /// UTF-8 as `<0xNN>` (byte-fallback tokens, a character's first bytes); "" for unused ids.
    func tokenText(_ id: Int32) -> String
    /// Control, user-defined special or unused tokens (never drawn as "ordinary" random tokens).
    func isSpecial(_ id: Int32) -> Bool
}

extension Tokenizer {
    /// Encodes with the model's own BOS convention.
    public func encode(_ text: String) -> [Int32] {
        encode(text, addBOS: addsBOSByDefault)
    }
}
