/// The symbols of one word before BPE merges, each with the byte of the word where it starts; a
/// symbol ends where the next one starts, so a fused unknown covers all its characters and a
/// character HF drops (no unknown token) goes with the symbol before it, if any. Starts are only
/// kept for a sink that keeps bytes.
struct WordSymbols<Sink: TokenSink> {
    private(set) var ids: [Int32] = []
    private var starts: [Int] = []
    private var lastIsUnknown = false

    init(capacity: Int) {
        ids.reserveCapacity(capacity)
        if Sink.keepsBytes { starts.reserveCapacity(capacity) }
    }

    mutating func append(_ id: Int32, at start: Int) {
        ids.append(id)
        if Sink.keepsBytes { starts.append(start) }
        lastIsUnknown = false
    }

    /// A character missing from the vocabulary: the unknown token, or nothing when the model has
    /// none (HF then drops the character).
    mutating func appendUnknown(at start: Int, _ policy: UnknownPolicy) {
        guard let unknownID = policy.unknownID, !(policy.fusesUnknown && lastIsUnknown) else { return }
        append(unknownID, at: start)
        lastIsUnknown = true
    }

    /// Appends each symbol as a token of the word of `length` bytes that starts at `wordStart`.
    func appendTokens(to tokens: inout Sink, wordStart: Int, length: Int) {
        for index in ids.indices {
            tokens.append(ids[index], bytes: (starts[index]..<start(index + 1, length: length)).shifted(by: wordStart))
        }
    }

    /// Appends the tokens after `merges`, each standing for the bytes of the symbols it merged.
    func appendTokens(mergedBy merges: BPEMerges, to tokens: inout Sink, wordStart: Int, length: Int) {
        let merged = merges.apply(ids)
        for (index, token) in merged.enumerated() {
            let next = index + 1 < merged.count ? merged[index + 1].firstSymbol : ids.count
            tokens.append(token.id, bytes: (starts[token.firstSymbol]..<start(next, length: length)).shifted(by: wordStart))
        }
    }

    /// Where symbol `index` starts, or the word's `length` past the last symbol.
    private func start(_ index: Int, length: Int) -> Int {
        index < ids.count ? starts[index] : length
    }
}

