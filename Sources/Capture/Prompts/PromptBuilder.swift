import Shared

/// Builds prompt sets of one task. The derivation, with `derive` = `SplitMix64.derive` and
/// the streams of `PromptStream`:
///
/// - Queries: with P query-pool pairs, prompt i asks pair `order_r[i mod P]` where
///   r = i / P and `order_r` is the query pool shuffled with `derive(seed, queryOrder, r)`:
///   a set of n <= P prompts asks n different queries.
/// - Demonstrations: `sample(k, from: D)` of the demonstration pool with
///   `derive(seed, demonstrations, i)`, in draw order.
/// - Variant: shuffledLabels, randomLabels draw with `derive(seed, variant, i)`;
///   abstractLabels assigns the first L symbols, shuffled with `derive(seed, abstractSymbols)`,
///   to the L labels.
///
/// None of these depends on the variant, the template or (for queries) k, so sets that differ
/// only in those line up prompt by prompt.
public struct PromptBuilder: Sendable {
    public let task: TaskFile
    public let split: TaskSplit

    public init(task: TaskFile) {
        self.task = task
        split = TaskSplit(task: task)
    }

    public func build(_ spec: PromptSetSpec) throws -> PromptSet {
        let template = try resolveTemplate(spec)
        let shots = spec.effectiveShots
        try check(spec, shots: shots)
        let labels = try shownLabels(spec)
        let randomOutputs = distinctDemonstrationOutputs()

        var queryOrder: [Int] = []
        var prompts: [Prompt] = []
        prompts.reserveCapacity(spec.count)
        for i in 0..<spec.count {
            let poolPosition = i % split.queryPairs.count
            if poolPosition == 0 {
                var rng = SplitMix64(seed: SplitMix64.derive(spec.seed, PromptStream.queryOrder.rawValue,
                                                             UInt64(i / split.queryPairs.count)))
                queryOrder = split.queryPairs
                rng.shuffle(&queryOrder)
            }
            var demoRNG = SplitMix64(seed: SplitMix64.derive(spec.seed, PromptStream.demonstrations.rawValue, UInt64(i)))
            let demos = demoRNG.sample(shots, from: split.demonstrationPairs.count).map { split.demonstrationPairs[$0] }
            var variantRNG = SplitMix64(seed: SplitMix64.derive(spec.seed, PromptStream.variant.rawValue, UInt64(i)))
            let shown = shownOutputs(of: demos, variant: spec.variant, labels: labels,
                                     randomOutputs: randomOutputs, rng: &variantRNG)
            prompts.append(render(index: i, query: queryOrder[poolPosition], demonstrations: demos,
                                  shownOutputs: shown, labels: labels, template: template))
        }
        return PromptSet(spec: spec, template: template, labels: labels, originalLabels: task.labels,
                         queryPoolSize: split.queryPairs.count, demonstrationPoolSize: split.demonstrationPairs.count,
                         prompts: prompts)
    }

    private func problem(_ message: String) -> InputError {
        InputError(file: "task \(task.name)", message)
    }

    private func resolveTemplate(_ spec: PromptSetSpec) throws -> PromptTemplate {
        let name = spec.template ?? task.defaultTemplate
        guard let template = task.template(named: name) else {
            let known = (PromptTemplate.builtIn + task.customTemplates).map(\.name).joined(separator: ", ")
            throw problem("unknown template \"\(name)\" (known: \(known))")
        }
        return template
    }

    private func check(_ spec: PromptSetSpec, shots: Int) throws {
        if spec.task != task.name {
            throw problem("the prompt set spec is for task \"\(spec.task)\"")
        }
        if spec.count < 0 || spec.shots < 0 {
            throw problem("prompt count and shots must not be negative")
        }
        if shots > split.demonstrationPairs.count {
            throw problem("\(shots) shots need as many demonstration pairs; the task has \(split.demonstrationPairs.count)")
        }
        if spec.variant == .abstractLabels && task.kind != .classification {
            throw problem("abstract labels need a classification task")
        }
    }

    /// The labels as the set shows them: the task's, or for abstractLabels their symbols.
    private func shownLabels(_ spec: PromptSetSpec) throws -> [String] {
        guard spec.variant == .abstractLabels else { return task.labels }
        var symbols = try spec.abstractSymbols.symbols(task.labels.count)
        var rng = SplitMix64(seed: SplitMix64.derive(spec.seed, PromptStream.abstractSymbols.rawValue))
        rng.shuffle(&symbols)
        return symbols
    }

    /// The demonstration pool's outputs without repeats, in pool order: what randomLabels
    /// draws from for an open task.
    private func distinctDemonstrationOutputs() -> [String] {
        var seen = Set<String>()
        return split.demonstrationPairs.map { task.pairs[$0].output }.filter { seen.insert($0).inserted }
    }

    private func shownOutputs(of demonstrations: [Int], variant: PromptVariant, labels: [String],
                              randomOutputs: [String], rng: inout SplitMix64) -> [String] {
        let outputs = demonstrations.map { task.pairs[$0].output }
        switch variant {
        case .clean, .zeroShot:
            return outputs
        case .shuffledLabels:
            guard Set(outputs).count > 1 else { return outputs }
            var shuffled = outputs
            repeat {
                shuffled = outputs
                rng.shuffle(&shuffled)
            } while shuffled == outputs
            return shuffled
        case .randomLabels:
            let choices = task.kind == .classification ? labels : randomOutputs
            return outputs.map { _ in choices[rng.uniform(below: choices.count)] }
        case .abstractLabels:
            return outputs.map { labels[task.labelIndex(of: $0)!] }
        }
    }

    private func render(index: Int, query: Int, demonstrations: [Int], shownOutputs: [String],
                        labels: [String], template: PromptTemplate) -> Prompt {
        let (inputPrefix, inputSuffix) = template.inputAffixes
        let (outputPrefix, outputSuffix) = template.outputAffixes
        var text = ""
        var offset = 0
        func append(_ piece: String) -> ByteSpan {
            text += piece
            offset += piece.utf8.count
            return ByteSpan(start: offset - piece.utf8.count, end: offset)
        }
        var shown: [Demonstration] = []
        for (pairIndex, output) in zip(demonstrations, shownOutputs) {
            let pair = task.pairs[pairIndex]
            _ = append(inputPrefix)
            let inputSpan = append(pair.input)
            _ = append(inputSuffix + outputPrefix)
            let outputSpan = append(output)
            _ = append(outputSuffix + template.separator)
            shown.append(Demonstration(pairIndex: pairIndex, input: pair.input, output: output,
                                       originalOutput: pair.output, inputSpan: inputSpan, outputSpan: outputSpan))
        }
        let queryPair = task.pairs[query]
        _ = append(inputPrefix)
        let queryInputSpan = append(queryPair.input)
        _ = append(inputSuffix)

        let goldLabelIndex = task.labelIndex(of: queryPair.output)
        let goldAnswer = goldLabelIndex.map { labels[$0] } ?? queryPair.output
        return Prompt(index: index, text: text, demonstrations: shown, queryPairIndex: query,
                      queryInput: queryPair.input, queryInputSpan: queryInputSpan, answerOffset: offset,
                      goldAnswer: goldAnswer, goldOutput: template.formatOutput(goldAnswer),
                      goldLabelIndex: goldLabelIndex)
    }
}
