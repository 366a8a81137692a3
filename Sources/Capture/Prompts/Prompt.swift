import Shared

/// A half-open range of UTF-8 byte offsets into a prompt's text (token positions are found
/// from these by whoever tokenizes).
public struct ByteSpan: Sendable, Hashable, Codable, CustomStringConvertible {
    public let start: Int
    public let end: Int

    public init(start: Int, end: Int) {
        precondition(start >= 0 && start <= end, "byte span \(start)..<\(end) is not a range")
        self.start = start
        self.end = end
    }

    public var count: Int { end - start }

    /// The bytes of `text` in this span, as a string (nil if the span leaves the text or cuts
    /// a character).
    public func slice(of text: String) -> String? {
        let bytes = Array(text.utf8)
        guard end <= bytes.count else { return nil }
        return String(validating: bytes[start..<end], as: UTF8.self)
    }

    public var description: String { "\(start)..<\(end)" }
}

/// One demonstration as it appears in a prompt.
public struct Demonstration: Sendable, Hashable, Codable {
    /// The pair's index in the task file's pairs.
    public let pairIndex: Int
    public let input: String
    /// The output as shown, after the variant (a shuffled, random or abstract label).
    public let output: String
    /// The pair's own output.
    public let originalOutput: String
    /// Where `input` is in the prompt's text.
    public let inputSpan: ByteSpan
    /// Where `output` is in the prompt's text (the label itself; the template's leading
    /// space is just before it).
    public let outputSpan: ByteSpan
}

/// One prompt: demonstrations followed by the query, whose answer would start at the end.
public struct Prompt: Sendable, Hashable, Codable {
    /// The prompt's position in its set (kept by sharding).
    public let index: Int
    public let text: String
    public let demonstrations: [Demonstration]
    /// The query pair's index in the task file's pairs.
    public let queryPairIndex: Int
    public let queryInput: String
    /// Where `queryInput` is in the text.
    public let queryInputSpan: ByteSpan
    /// The byte offset where the answer would start: the text's UTF-8 length.
    public let answerOffset: Int
    /// The answer the model should give, before the template: the query pair's output, or its
    /// abstract symbol.
    public let goldAnswer: String
    /// `goldAnswer` in the template's output format, e.g. " cold": the text whose first token
    /// is scored.
    public let goldOutput: String
    /// The position of the gold answer in the set's labels (classification tasks).
    public let goldLabelIndex: Int?
}
