/// Text placed in SVG or HTML: escaped so labels taken from data (token texts, task names)
/// can never break the markup.
enum MarkupText {
    /// `text` with &, <, >, " and ' escaped, usable both as element content and as an attribute
    /// value. Characters that XML 1.0 forbids even as references (C0 controls other than tab,
    /// newline and carriage return) become U+FFFD, so every file still parses.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                let forbidden = scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF
                out.unicodeScalars.append(forbidden ? "\u{FFFD}" : scalar)
            }
        }
        return out
    }
}
