/// The regex families that split text into words before BPE, written as hand-made scanners that
/// reproduce the leftmost-first, greedy matching of the regexes exactly:
/// - gpt2:   `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
/// - llama3: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
/// - qwen2:  llama3 with `\p{N}` (one digit at a time) instead of `\p{N}{1,3}`.
enum SplitPattern: String, Sendable {
    case gpt2, llama3, qwen2

    /// The regex as tokenizer.json files write it, to recognise a `Split` pre-tokenizer.
    var regex: String {
        switch self {
        case .gpt2:
            return #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
        case .llama3:
            return #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        case .qwen2:
            return #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        }
    }

    init?(regex: String) {
        guard let match = [SplitPattern.gpt2, .llama3, .qwen2].first(where: { $0.regex == regex }) else { return nil }
        self = match
    }
}

/// Splits text into the words BPE merges within: optionally every digit on its own first
/// (HF `Digits(individual_digits: true)`, SmolLM2 and StarCoder), then one regex family.
struct PreTokenizer: Sendable {
    var splitsDigits: Bool
    var pattern: SplitPattern

    /// The words of `scalars`, as index ranges in order, covering every scalar.
    func split(_ scalars: [Unicode.Scalar]) -> [Range<Int>] {
        let classes = scalars.map(UnicodeClass.init)
        var words = [Range<Int>]()
        words.reserveCapacity(scalars.count / 3 + 1)
        let scanner = RegexScanner(scalars: scalars, classes: classes)
        guard splitsDigits else {
            scanner.scan(0..<scalars.count, pattern: pattern, into: &words)
            return words
        }
        var stretchStart = 0
        for index in scalars.indices where classes[index] == .number {
            scanner.scan(stretchStart..<index, pattern: pattern, into: &words)
            words.append(index..<index + 1)
            stretchStart = index + 1
        }
        scanner.scan(stretchStart..<scalars.count, pattern: pattern, into: &words)
        return words
    }
}

/// One scan of a stretch of text with one regex family; see `SplitPattern` for the regexes.
private struct RegexScanner {
    let scalars: [Unicode.Scalar]
    let classes: [UnicodeClass]

    func scan(_ range: Range<Int>, pattern: SplitPattern, into words: inout [Range<Int>]) {
        var index = range.lowerBound
        while index < range.upperBound {
            let end: Int
            switch pattern {
            case .gpt2: end = gpt2Match(at: index, limit: range.upperBound)
            case .llama3: end = llamaMatch(at: index, limit: range.upperBound, maxDigits: 3)
            case .qwen2: end = llamaMatch(at: index, limit: range.upperBound, maxDigits: 1)
            }
            words.append(index..<end)
            index = end
        }
    }

    private func gpt2Match(at start: Int, limit: Int) -> Int {
        if let length = contractionLength(at: start, limit: limit, ignoringCase: false) {
            return start + length
        }
        // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: the class of the first non-space decides.
        var runStart = start
        if scalars[start] == " ", start + 1 < limit, classes[start + 1] != .whitespace {
            runStart = start + 1
        }
        let runClass = classes[runStart]
        if runClass != .whitespace {
            return runEnd(from: runStart + 1, limit: limit) { $0 == runClass }
        }
        return whitespaceMatch(at: start, limit: limit)
    }

    private func llamaMatch(at start: Int, limit: Int, maxDigits: Int) -> Int {
        if let length = contractionLength(at: start, limit: limit, ignoringCase: true) {
            return start + length
        }
        let first = classes[start]
        // `[^\r\n\p{L}\p{N}]?\p{L}+`
        if first == .letter {
            return runEnd(from: start + 1, limit: limit) { $0 == .letter }
        }
        if first != .number, !isNewline(start), start + 1 < limit, classes[start + 1] == .letter {
            return runEnd(from: start + 2, limit: limit) { $0 == .letter }
        }
        // `\p{N}{1,n}`
        if first == .number {
            var end = start + 1
            while end < limit, end - start < maxDigits, classes[end] == .number { end += 1 }
            return end
        }
        // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        var runStart = start
        if scalars[start] == " ", start + 1 < limit, classes[start + 1] == .other {
            runStart = start + 1
        }
        if classes[runStart] == .other {
            var end = runEnd(from: runStart + 1, limit: limit) { $0 == .other }
            while end < limit, isNewline(end) { end += 1 }
            return end
        }
        // `\s*[\r\n]+`: a whitespace run that holds a newline ends at its last newline.
        let wsEnd = runEnd(from: start, limit: limit) { $0 == .whitespace }
        if let lastNewline = (start..<wsEnd).last(where: isNewline) {
            return lastNewline + 1
        }
        return whitespaceMatch(at: start, limit: limit)
    }

    /// `\s+(?!\S)|\s+`: a whitespace run leaves its last character to the word that follows.
    private func whitespaceMatch(at start: Int, limit: Int) -> Int {
        let end = runEnd(from: start, limit: limit) { $0 == .whitespace }
        if end == limit { return end }
        return end - start >= 2 ? end - 1 : start + 1
    }

    private func runEnd(from start: Int, limit: Int, while belongs: (UnicodeClass) -> Bool) -> Int {
        var end = start
        while end < limit, belongs(classes[end]) { end += 1 }
        return end
    }

    private func isNewline(_ index: Int) -> Bool {
        scalars[index] == "\n" || scalars[index] == "\r"
    }

    /// `'s|'t|'re|'ve|'m|'ll|'d`, optionally case-insensitive (where "ſ" folds to "s").
    private func contractionLength(at start: Int, limit: Int, ignoringCase: Bool) -> Int? {
        guard scalars[start] == "'", start + 1 < limit else { return nil }
        func letter(_ offset: Int) -> Unicode.Scalar? {
            guard start + offset < limit else { return nil }
            let scalar = scalars[start + offset]
            guard ignoringCase else { return scalar }
            if scalar == "ſ" { return "s" }
            return scalar.value < 128 ? Unicode.Scalar(UInt8(scalar.value) | 0x20) : scalar
        }
        switch letter(1) {
        case "s", "t", "m", "d": return 2
        case "r", "v": return letter(2) == "e" ? 3 : nil
        case "l": return letter(2) == "l" ? 3 : nil
        default: return nil
        }
    }
}
