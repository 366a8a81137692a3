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

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

/// `bytes` as text, each byte that is not part of a valid UTF-8 sequence written as `<0xNN>`
/// (a byte-level piece such as " \u{E6}" that holds the first byte of a character is " <0xE6>").
/// NUL is written `<0x00>` too: C and HDF5 strings end at it.
func readableText(_ bytes: [UInt8]) -> String {
    var text = ""
    var start = 0
    scan: while start < bytes.count {
        for length in 1...min(4, bytes.count - start) where bytes[start] != 0 {
            if let character = validUTF8String(Array(bytes[start..<start + length])) {
                text += character
                start += length
                continue scan
            }
        }
        text += byteTokenPiece(bytes[start])
        start += 1
    }
    return text
}

/// The text of `bytes` when they are valid UTF-8.
func validUTF8String(_ bytes: [UInt8]) -> String? {
    let text = String(decoding: bytes, as: UTF8.self)
    return text.utf8.elementsEqual(bytes) ? text : nil
}
