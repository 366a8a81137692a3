import Shared

/// One input/output example of a task, as the task file has it (no template applied).
public struct TaskPair: Sendable, Hashable, Codable {
    public let input: String
    public let output: String

    public init(input: String, output: String) {
        self.input = input
        self.output = output
    }
}

/// A validated in-context-learning task: the header of a task file and its pairs. The file
/// format (tasks/README.md) is JSONL: a header object, then one `{"input", "output"}` per line.
public struct TaskFile: Sendable, Hashable {
    public let name: String
    public let kind: TaskKind
    public let description: String
    /// Where the pairs come from: package or data set, version, licence.
    public let source: String
    /// The name of the template prompts use unless a spec names another.
    public let defaultTemplate: String
    /// The label words of a classification task, without leading spaces; empty for open tasks.
    public let labels: [String]
    /// Templates the task file defines for itself, beside the built-in ones.
    public let customTemplates: [PromptTemplate]
    public let pairs: [TaskPair]

    /// Validates as loading a file does; a problem is an `InputError` naming the task and,
    /// for a pair, its 1-based position among the pairs.
    public init(name: String, kind: TaskKind, description: String, source: String, defaultTemplate: String,
                labels: [String] = [], customTemplates: [PromptTemplate] = [], pairs: [TaskPair]) throws {
        do {
            try self.init(validating: name, kind: kind, description: description, source: source,
                          defaultTemplate: defaultTemplate, labels: labels, customTemplates: customTemplates,
                          pairs: pairs)
        } catch let problem as TaskProblem {
            throw InputError(file: "task \(name)", problem.describe { "pair \($0 + 1)" })
        }
    }

    /// The designated initializer: throws `TaskProblem`, which loaders turn into messages
    /// with line numbers.
    init(validating name: String, kind: TaskKind, description: String, source: String, defaultTemplate: String,
         labels: [String], customTemplates: [PromptTemplate], pairs: [TaskPair]) throws {
        self.name = name
        self.kind = kind
        self.description = description
        self.source = source
        self.defaultTemplate = defaultTemplate
        self.labels = labels
        self.customTemplates = customTemplates
        self.pairs = pairs
        try checkHeader()
        try checkPairs()
    }

    /// A custom template of this task, else the built-in one of that name.
    public func template(named name: String) -> PromptTemplate? {
        customTemplates.first { $0.name == name } ?? PromptTemplate.builtIn(named: name)
    }

    /// The position of `output` in `labels`, for a classification task.
    public func labelIndex(of output: String) -> Int? {
        labels.firstIndex(of: output)
    }

    private func checkHeader() throws {
        if name.isEmpty || name.contains("/") {
            throw TaskProblem(nil, "name must be non-empty and contain no '/'")
        }
        switch kind {
        case .classification:
            if labels.count < 2 { throw TaskProblem(nil, "a classification task needs at least two labels") }
            if let empty = labels.firstIndex(where: \.isEmpty) {
                throw TaskProblem(nil, "label \(empty + 1) is empty")
            }
            var seen = Set<String>()
            for label in labels where !seen.insert(label).inserted {
                throw TaskProblem(nil, "duplicate label \"\(label)\"")
            }
        case .open:
            if !labels.isEmpty { throw TaskProblem(nil, "labels are only for classification tasks") }
        }
        var templateNames = Set<String>()
        for custom in customTemplates {
            if PromptTemplate.builtIn(named: custom.name) != nil {
                throw TaskProblem(nil, "template \"\(custom.name)\" is built in and cannot be redefined")
            }
            if !templateNames.insert(custom.name).inserted {
                throw TaskProblem(nil, "template \"\(custom.name)\" is defined twice")
            }
        }
        if template(named: defaultTemplate) == nil {
            let known = (PromptTemplate.builtIn + customTemplates).map(\.name).joined(separator: ", ")
            throw TaskProblem(nil, "unknown template \"\(defaultTemplate)\" (known: \(known))")
        }
    }

    private func checkPairs() throws {
        if pairs.isEmpty { throw TaskProblem(nil, "the task has no pairs") }
        let labelSet = Set(labels)
        var firstSeen: [String: Int] = [:]
        for (i, pair) in pairs.enumerated() {
            if pair.input.isEmpty || pair.output.isEmpty {
                throw TaskProblem(i, "input and output must be non-empty")
            }
            if kind == .classification && !labelSet.contains(pair.output) {
                throw TaskProblem(i, "output \"\(pair.output)\" is not one of the labels \(labels)")
            }
            // Inputs are unique so that keeping demonstrations and queries apart keeps the
            // query's answer out of the demonstrations.
            if let earlier = firstSeen[pair.input] {
                throw TaskProblem(i, "input \"\(pair.input)\" appears twice", repeatOf: earlier)
            }
            firstSeen[pair.input] = i
        }
    }
}

/// A validation problem, located at a pair (0-based) or, with `pairIndex` nil, the header.
struct TaskProblem: Error {
    let pairIndex: Int?
    let message: String
    /// For a repeated input, the pair it repeats.
    let repeatOf: Int?

    init(_ pairIndex: Int?, _ message: String, repeatOf: Int? = nil) {
        self.pairIndex = pairIndex
        self.message = message
        self.repeatOf = repeatOf
    }

    /// "<where>: <message>", with `locate` naming a pair ("pair 3", "line 4") and nil
    /// `pairIndex` meaning the header.
    func describe(header: String? = nil, locate: (Int) -> String) -> String {
        let position = pairIndex.map(locate) ?? header
        let text = repeatOf.map { "\(message) (first at \(locate($0)))" } ?? message
        return position.map { "\($0): \(text)" } ?? text
    }
}
