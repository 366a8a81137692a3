import Foundation
import Shared

/// What each key position of a prompt is, for attention from the answer position
/// (docs/methods.md §6). First match wins, in this order.
public enum KeyCategory: Int, Sendable, CaseIterable {
    /// BOS and other special tokens.
    case special
    /// Demonstrations' outputs: the label tokens the model sees in context.
    case demoOutputs
    case demoInputs
    case query
    /// Everything else: separators and template words.
    case template

    public var column: String {
        switch self {
        case .special: "attn_special"
        case .demoOutputs: "attn_demo_outputs"
        case .demoInputs: "attn_demo_inputs"
        case .query: "attn_query"
        case .template: "attn_template"
        }
    }
}

/// The key categories of every row of one file's part of a set.
struct PromptLayout {
    let tokenCount: [Int]          // [rows]
    let tokens: Int                // T of the file's set
    private let categories: [UInt8] // [rows, T]

    init(file: DumpFile, group: String) throws {
        let t = file.size("token", in: group), rows = file.size("prompt", in: group), shots = file.size("shot", in: group)
        let counts = try file.read(group + "/token_count", as: Int32.self)
        let special = try file.read(group + "/special_mask", as: UInt8.self)
        let inputs = try file.read(group + "/demo_input_span", as: Int32.self)
        let outputs = try file.read(group + "/demo_output_span", as: Int32.self)
        let query = try file.read(group + "/query_span", as: Int32.self)
        var categories = [UInt8](repeating: UInt8(KeyCategory.template.rawValue), count: rows * t)
        tokenCount = try counts.enumerated().map { row, count in
            guard count >= 1, Int(count) <= t else {
                throw InputError(file: file.path, "/\(group)/token_count[\(row)] is \(count), outside 1...\(t)")
            }
            return Int(count)
        }
        func mark(_ spans: [Int32], row: Int, count: Int, as category: KeyCategory) throws {
            for s in 0..<(spans.count / max(rows, 1) / 2) {
                let start = Int(spans[(row * (spans.count / rows / 2) + s) * 2]), end = Int(spans[(row * (spans.count / rows / 2) + s) * 2 + 1])
                guard 0 <= start, start <= end, end <= count else {
                    throw InputError(file: file.path, "/\(group) row \(row): span [\(start), \(end)) is outside the prompt's \(count) tokens")
                }
                for k in start..<end where categories[row * t + k] == UInt8(KeyCategory.template.rawValue) {
                    categories[row * t + k] = UInt8(category.rawValue)
                }
            }
        }
        for row in 0..<rows {
            let count = tokenCount[row]
            for k in 0..<count where special[row * t + k] == 1 { categories[row * t + k] = UInt8(KeyCategory.special.rawValue) }
            if shots > 0 {
                try mark(outputs, row: row, count: count, as: .demoOutputs)
                try mark(inputs, row: row, count: count, as: .demoInputs)
            }
            try mark(query, row: row, count: count, as: .query)
        }
        self.tokens = t
        self.categories = categories
    }

    /// The categories of row `row`'s keys: [T] (KeyCategory raw values).
    func categories(row: Int) -> ArraySlice<UInt8> { categories[row * tokens ..< (row + 1) * tokens] }

    /// Row `row`'s keys (its first tokenCount[row] positions) as runs of one category, in order.
    func runs(row: Int) -> [(keys: Range<Int>, category: Int)] {
        let kinds = categories(row: row).prefix(tokenCount[row])
        var runs: [(keys: Range<Int>, category: Int)] = []
        var start = kinds.startIndex
        while start < kinds.endIndex {
            var end = start + 1
            while end < kinds.endIndex && kinds[end] == kinds[start] { end += 1 }
            let offset = row * tokens
            runs.append(((start - offset)..<(end - offset), Int(kinds[start])))
            start = end
        }
        return runs
    }
}
