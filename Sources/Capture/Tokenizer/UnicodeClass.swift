/// The character classes the pre-tokenizer regexes use: `\p{L}`, `\p{N}`, `\s` and the rest.
/// `\s` is Unicode White_Space, which is what the Oniguruma engine inside HF tokenizers matches.
enum UnicodeClass: UInt8, Sendable {
    case letter, number, whitespace, other

    init(_ scalar: Unicode.Scalar) {
        if scalar.value < 128 {
            self = UnicodeClass.ascii[Int(scalar.value)]
            return
        }
        if scalar.properties.isWhitespace {
            self = .whitespace
            return
        }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            self = .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            self = .number
        default:
            self = .other
        }
    }

    private static let ascii: [UnicodeClass] = (0..<128).map { value in
        let scalar = Unicode.Scalar(UInt8(value))
        switch scalar {
        case "a"..."z", "A"..."Z": return .letter
        case "0"..."9": return .number
        case " ", "\t", "\n", "\r", "\u{0B}", "\u{0C}": return .whitespace
        default: return .other
        }
    }
}
