/// A token id and the half-open range of UTF-8 byte offsets into the encoded text that the token
/// stands for.
///
/// The ranges of one encoding never overlap and never decrease. They are Hugging Face's
/// `offset_mapping` (turned from characters into UTF-8 bytes) except where HF's overlap:
/// - Byte-level tokens that each hold part of one multi-byte character get the bytes they hold;
///   HF gives each the whole character. Widened to whole characters, the ranges are HF's.
/// - A token that stands for no text of its own gets an empty range at its position: BOS, the "▁"
///   SentencePiece puts in front of the text (HF gives it the first character), a later piece of
///   a character that NFC made from fewer bytes than tokens share it.
///
/// As in HF: a SentencePiece "▁" covers the space it replaced ("▁the" covers " the"); a special
/// token covers its text and the whitespace an `lstrip`/`rstrip` token absorbs; a byte-fallback
/// token covers its byte; after NFC the ranges point into the text before normalization, and a
/// character composed from several covers only the first (e + U+0301 → "é" covers the "e"; no
/// token covers the U+0301). Spaces are never trimmed off (HF trims them only for a ByteLevel
/// post-processor with `trim_offsets`, which GPT-2, Llama 3, Qwen2 and SmolLM2 leave off).
public struct TokenSpan: Equatable, Sendable {
    public var id: Int32
    public var bytes: Range<Int>

    public init(id: Int32, bytes: Range<Int>) {
        self.id = id
        self.bytes = bytes
    }
}
