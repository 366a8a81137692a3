import Shared

/// How one pair is written into a prompt. A demonstration is
/// `input(x) + output(y) + separator`; the query is `input(x)` alone, and the model's answer
/// would be `output(y)`, so `output` carries the leading space the answer's first token has.
///
/// `input` holds the placeholder `{x}` once and `output` holds `{y}` once; the placeholders are
/// replaced literally, never re-scanned, so braces inside task data are safe.
public struct PromptTemplate: Sendable, Hashable, Codable {
    public let name: String
    /// E.g. `"Q: {x}\nA:"`.
    public let input: String
    /// E.g. `" {y}"`.
    public let output: String
    /// Written after each demonstration's output, e.g. `"\n\n"`.
    public let separator: String

    /// Checks the placeholders; a problem is an `InputError` naming the template.
    public init(name: String, input: String, output: String, separator: String) throws {
        try self.init(checking: name, input: input, output: output, separator: separator)
    }

    private init(checking name: String, input: String, output: String, separator: String) throws {
        func count(_ placeholder: String, in text: String) -> Int {
            text.components(separatedBy: placeholder).count - 1
        }
        let problems = [
            name.isEmpty ? "a template needs a name" : nil,
            count("{x}", in: input) != 1 || count("{y}", in: input) != 0
                ? "input format must contain {x} once and no {y}" : nil,
            count("{y}", in: output) != 1 || count("{x}", in: output) != 0
                ? "output format must contain {y} once and no {x}" : nil,
            separator.contains("{x}") || separator.contains("{y}") ? "separator must not contain {x} or {y}" : nil,
        ].compactMap { $0 }
        if let problem = problems.first {
            throw InputError(file: nil, "template \"\(name)\": \(problem)")
        }
        self.name = name
        self.input = input
        self.output = output
        self.separator = separator
    }

    private enum CodingKeys: String, CodingKey { case name, input, output, separator }

    /// Decoding checks the placeholders as `init(name:input:output:separator:)` does.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(checking: c.decode(String.self, forKey: .name), input: c.decode(String.self, forKey: .input),
                      output: c.decode(String.self, forKey: .output),
                      separator: c.decode(String.self, forKey: .separator))
    }

    /// The input format's text before and after `{x}`.
    public var inputAffixes: (prefix: String, suffix: String) {
        Self.affixes(of: input, around: "{x}")
    }

    /// The output format's text before and after `{y}`.
    public var outputAffixes: (prefix: String, suffix: String) {
        Self.affixes(of: output, around: "{y}")
    }

    /// `input` with `{x}` replaced by `x`.
    public func formatInput(_ x: String) -> String {
        let (prefix, suffix) = inputAffixes
        return prefix + x + suffix
    }

    /// `output` with `{y}` replaced by `y`: the text whose first token is scored, e.g. " cold".
    public func formatOutput(_ y: String) -> String {
        let (prefix, suffix) = outputAffixes
        return prefix + y + suffix
    }

    private static func affixes(of format: String, around placeholder: String) -> (prefix: String, suffix: String) {
        guard let range = format.range(of: placeholder) else { return (format, "") }
        return (String(format[..<range.lowerBound]), String(format[range.upperBound...]))
    }
}

extension PromptTemplate {
    /// The templates every task may use, in the order tasks/README.md lists them.
    public static let builtIn: [PromptTemplate] = [
        // Todd et al. 2024 (function vectors).
        builtInTemplate("qa", "Q: {x}\nA:", separator: "\n\n"),
        builtInTemplate("arrow", "{x} ->"),
        // Task-specific label-anchored formats: "<input> <Field>: <label>".
        builtInTemplate("sentiment", "{x} Sentiment:"),
        builtInTemplate("continent", "{x} Continent:"),
        builtInTemplate("hemisphere", "{x} Hemisphere:"),
        builtInTemplate("type", "{x} Type:"),
        builtInTemplate("pos", "{x} Part of speech:"),
        builtInTemplate("letter", "{x} First letter:"),
        builtInTemplate("parity", "{x} Parity:"),
        builtInTemplate("comparison", "{x} Compared with 50:"),
    ]

    /// The built-in template called `name`, if there is one.
    public static func builtIn(named name: String) -> PromptTemplate? {
        builtIn.first { $0.name == name }
    }

    private static func builtInTemplate(_ name: String, _ input: String, separator: String = "\n") -> PromptTemplate {
        // The formats above are fixed and valid; a failure here is a programming error.
        try! PromptTemplate(checking: name, input: input, output: " {y}", separator: separator)
    }
}
