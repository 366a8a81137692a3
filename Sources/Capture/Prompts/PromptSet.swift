import Shared

/// The prompts of one spec, with what is needed to score and reproduce them.
public struct PromptSet: Sendable, Hashable, Codable {
    public let spec: PromptSetSpec
    /// The resolved template.
    public let template: PromptTemplate
    /// The task's labels as the prompts show them: the abstract symbols for abstractLabels,
    /// else the task's labels; empty for open tasks. `labels[j]` stands for `originalLabels[j]`.
    public let labels: [String]
    /// The task's own labels (the abstract mapping is `originalLabels[j] -> labels[j]`).
    public let originalLabels: [String]
    /// The size of the task's query and demonstration pools.
    public let queryPoolSize: Int
    public let demonstrationPoolSize: Int
    public let prompts: [Prompt]

    public init(spec: PromptSetSpec, template: PromptTemplate, labels: [String], originalLabels: [String],
                queryPoolSize: Int, demonstrationPoolSize: Int, prompts: [Prompt]) {
        self.spec = spec
        self.template = template
        self.labels = labels
        self.originalLabels = originalLabels
        self.queryPoolSize = queryPoolSize
        self.demonstrationPoolSize = demonstrationPoolSize
        self.prompts = prompts
    }

    /// Each label in the template's output format (" positive", " B"): the candidates whose
    /// first tokens classification scores compare.
    public var labelOutputs: [String] {
        labels.map(template.formatOutput)
    }

    /// The prompts of one shard, with their indices kept.
    public func sharded(_ shard: Shard) -> PromptSet {
        PromptSet(spec: spec, template: template, labels: labels, originalLabels: originalLabels,
                  queryPoolSize: queryPoolSize, demonstrationPoolSize: demonstrationPoolSize,
                  prompts: prompts.filter { shard.contains(promptIndex: $0.index) })
    }
}
