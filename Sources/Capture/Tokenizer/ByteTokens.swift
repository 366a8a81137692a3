// Spelling bytes as text: SentencePiece byte tokens and undecodable byte-level pieces.

/// The byte a SentencePiece byte token such as `<0x0A>` stands for.
func byteTokenValue(_ piece: String) -> UInt8? {
    let utf8 = Array(piece.utf8)
    guard utf8.count == 6, piece.hasPrefix("<0x"), utf8[5] == UInt8(ascii: ">") else { return nil }
    return UInt8(String(decoding: utf8[3..<5], as: UTF8.self), radix: 16)
}

/// The SentencePiece spelling of a byte token.
func byteTokenPiece(_ byte: UInt8) -> String {
    "<0x" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2) + ">"
}

/// Shows bytes that are not text as `<0xNN>`, the way SentencePiece vocabularies spell them.
func hexByteText<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
    bytes.map(byteTokenPiece).joined()
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

/// The text of `bytes` when they are valid UTF-8.
func validUTF8String(_ bytes: [UInt8]) -> String? {
    let text = String(decoding: bytes, as: UTF8.self)
    return text.utf8.elementsEqual(bytes) ? text : nil
}
