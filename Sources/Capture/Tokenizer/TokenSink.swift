/// Where the encoders put tokens: `encode` keeps the ids alone, so that offsets cost it nothing,
/// and `encodeWithOffsets` keeps each id with its bytes.
protocol TokenSink {
    /// Whether the sink keeps byte ranges; encoders skip the work of finding them when not.
    static var keepsBytes: Bool { get }
    init()
    var count: Int { get }
    mutating func append(_ id: Int32, bytes: @autoclosure () -> Range<Int>)
    mutating func append(contentsOf other: Self, shiftedBy offset: Int)
    /// Maps the ranges of the tokens from `first` on, which are bytes of a normalized piece of
    /// text, through the piece's `alignment` into the original text, where the piece starts at `offset`.
    mutating func mapToOriginal(from first: Int, through alignment: TextAlignment, offset: Int)
}

struct TokenIDSink: TokenSink {
    static var keepsBytes: Bool { false }

    var ids: [Int32] = []

    var count: Int { ids.count }

    mutating func append(_ id: Int32, bytes: @autoclosure () -> Range<Int>) {
        ids.append(id)
    }

    mutating func append(contentsOf other: TokenIDSink, shiftedBy offset: Int) {
        ids += other.ids
    }

    func mapToOriginal(from first: Int, through alignment: TextAlignment, offset: Int) {}
}

struct TokenSpanSink: TokenSink {
    static var keepsBytes: Bool { true }

    var spans: [TokenSpan] = []

    var count: Int { spans.count }

    mutating func append(_ id: Int32, bytes: @autoclosure () -> Range<Int>) {
        spans.append(TokenSpan(id: id, bytes: bytes()))
    }

    mutating func append(contentsOf other: TokenSpanSink, shiftedBy offset: Int) {
        for span in other.spans { spans.append(TokenSpan(id: span.id, bytes: span.bytes.shifted(by: offset))) }
    }

    mutating func mapToOriginal(from first: Int, through alignment: TextAlignment, offset: Int) {
        alignment.mapToOriginal(&spans, from: first, offset: offset)
    }
}
