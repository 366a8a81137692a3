import Shared

/// The token ids of synthetic prompts. Ids below `firstOrdinary` are fixed: 0-2 special (BOS
/// is 1), 3-6 the template's words. Every other id is an ordinary token whose text is
/// " w<id>", so a prompt's text spells its tokens.
enum SyntheticVocabulary {
    static let endOfText: Int32 = 0
    static let bos: Int32 = 1
    static let firstTemplateToken: Int32 = 3
    static let question: Int32 = 3   // "Q:"
    static let newline: Int32 = 4    // "\n"
    static let answer: Int32 = 5     // "A:"
    static let separator: Int32 = 6  // "\n\n"
    static let firstOrdinary = 7

    /// The template every synthetic set uses, as its attributes record it.
    static let templateInput = "Q:{x}\nA:"
    static let templateOutput = " {y}"
    static let templateSeparator = "\n\n"

    static func isSpecial(_ id: Int32) -> Bool { id < firstTemplateToken }

    static func text(of id: Int32) -> String {
        switch id {
        case endOfText: "<|endoftext|>"
        case bos: "<s>"
        case question: "Q:"
        case newline: "\n"
        case answer: "A:"
        case separator: "\n\n"
        case ..<Int32(firstOrdinary): "<|special_\(id)|>"
        default: " w\(id)"
        }
    }

    /// A uniformly drawn ordinary token.
    static func ordinary(_ rng: inout SplitMix64, vocabulary: Int) -> Int32 {
        Int32(firstOrdinary + rng.uniform(below: vocabulary - firstOrdinary))
    }

    /// `count` distinct ordinary tokens in draw order.
    static func distinctOrdinary(_ count: Int, _ rng: inout SplitMix64, vocabulary: Int) -> [Int32] {
        rng.sample(count, from: vocabulary - firstOrdinary).map { Int32(firstOrdinary + $0) }
    }
}
