import Foundation

/// Token F1 of a generated continuation against the gold answer, as Yin & Steinhardt score
/// few-shot ICL (docs/methods.md §17; their eval_utils follows SQuAD): the answer is the first
/// run of word characters, periods and spaces in the continuation; both texts are lowercased,
/// stripped of ASCII punctuation and of the articles a, an, the, and split on whitespace;
/// F1 = 2PR / (P + R) over the multiset of shared words, 0 when none is shared.
public enum TokenF1 {
    public static func score(continuation: String, reference: String) -> Double {
        guard let answer = firstAnswer(in: continuation) else { return 0 }
        let predicted = words(answer), gold = words(reference)
        var counts: [String: Int] = [:]
        for word in gold { counts[word, default: 0] += 1 }
        var shared = 0
        for word in predicted where (counts[word] ?? 0) > 0 {
            counts[word]! -= 1
            shared += 1
        }
        guard shared > 0 else { return 0 }
        let precision = Double(shared) / Double(predicted.count), recall = Double(shared) / Double(gold.count)
        return 2 * precision * recall / (precision + recall)
    }

    /// The first maximal run of word characters, "." and " " (their regex `([\w. ]+)`), or nil.
    static func firstAnswer(in text: String) -> String? {
        var run = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if isWord(scalar) || scalar == "." || scalar == " " {
                run.append(scalar)
            } else if !run.isEmpty {
                break
            }
        }
        return run.isEmpty ? nil : String(run)
    }

    /// Lowercased, ASCII punctuation removed, articles removed, split on whitespace.
    static func words(_ text: String) -> [String] {
        let kept = String(String.UnicodeScalarView(text.lowercased().unicodeScalars.filter { !punctuation.contains($0) }))
        // An article is a whole run of word characters (regex \b(a|an|the)\b): it becomes a space.
        var result = String.UnicodeScalarView(), word = String.UnicodeScalarView()
        func flush() {
            let w = String(word)
            if w == "a" || w == "an" || w == "the" { result.append(" ") } else { result.append(contentsOf: word) }
            word = String.UnicodeScalarView()
        }
        for scalar in kept.unicodeScalars {
            if isWord(scalar) {
                word.append(scalar)
            } else {
                flush()
                result.append(scalar)
            }
        }
        flush()
        return String(result).split(whereSeparator: { $0.isWhitespace }).map(String.init)
    }

    /// Python's `string.punctuation`.
    private static let punctuation = Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".unicodeScalars)

    /// Python's `\w` on str: letters, numbers and the underscore.
    private static func isWord(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == "_" { return true }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .decimalNumber, .letterNumber, .otherNumber:
            return true
        default:
            return false
        }
    }
}
