import Foundation
import Shared

// Legend: P = prompts of a set (this shard's), T = the set's longest prompt in tokens,
// K = demonstrations per prompt, C = captured positions per prompt.

/// One prompt set, tokenized, with every position and label decided before the first forward
/// pass, so the dump's whole layout can be created up front (the crash-safe way to write HDF5).
public struct PlannedSet: Sendable {
    public let name: String
    public let promptSet: PromptSet
    public let kind: TaskKind
    /// token ids of each prompt: [P][tokens]
    public let tokens: [[Int32]]
    public let specialMasks: [[UInt8]]
    /// token spans [start, end): [P][K] and [P]
    public let demoInputSpans: [[(Int, Int)]]
    public let demoOutputSpans: [[(Int, Int)]]
    public let querySpans: [(Int, Int)]
    /// captured token positions: [P][C], the answer position first
    public let positions: [[Int]]
    /// First token of each label output (classification) or of each distinct gold output (open).
    public let labelIDs: [Int32]
    public let labelTexts: [String]
    public let multiTokenLabels: [Int]
    public let sharedFirstToken: Bool
    /// index into labelIDs (-1 for open tasks): [P]
    public let gold: [Int32]
    public let goldTokens: [Int32]

    public var maxTokens: Int { tokens.map(\.count).max() ?? 0 }
    public var positionCount: Int { positions.first?.count ?? 1 }
    public var shots: Int { promptSet.spec.effectiveShots }
}

/// The induction probe sequences (with BOS when the model uses one).
public struct PlannedProbe: Sendable {
    public let name: String
    /// Index of each kept sequence among all probe sequences.
    public let promptIndices: [Int]
    public let tokens: [[Int32]]
    public let repeatLength: Int
    public let hasBOS: Bool
    public let seed: UInt64
}

public struct CapturePlan: Sendable {
    public let sets: [PlannedSet]
    public let probes: [PlannedProbe]
    /// Warnings for the user (e.g. labels sharing a first token).
    public let warnings: [String]

    /// Token ids whose unembedding rows the dump stores: labels and gold tokens of every set.
    public var unembeddingIDs: [Int32] {
        Array(Set(sets.flatMap { $0.labelIDs + $0.goldTokens })).sorted()
    }

    public var promptCount: Int { sets.reduce(0) { $0 + $1.tokens.count } + probes.reduce(0) { $0 + $1.tokens.count } }
    public var tokenCount: Int {
        sets.reduce(0) { $0 + $1.tokens.reduce(0) { $0 + $1.count } } + probes.reduce(0) { $0 + $1.tokens.reduce(0) { $0 + $1.count } }
    }

    /// Builds every prompt set of `configuration` from the task files in `tasksDirectory`,
    /// keeping the prompts of `shard`.
    public init(configuration: CaptureConfiguration, tasksDirectory: URL, model: LoadedModel, shard: Shard) throws {
        try self.init(configuration: configuration, catalog: TaskCatalog(directory: tasksDirectory), model: model, shard: shard)
    }

    /// Builds every prompt set of `configuration` from the task files of `catalog`, keeping
    /// the prompts of `shard`.
    public init(configuration c: CaptureConfiguration, catalog: TaskCatalog, model: LoadedModel, shard: Shard) throws {
        let tokenizer = model.tokenizer
        let addBOS = c.bos ?? tokenizer.addsBOSByDefault
        var sets: [PlannedSet] = []
        var warnings: [String] = []
        var seen = Set<String>()
        for taskName in c.tasks {
            let task = try catalog.load(taskName)
            let builder = PromptBuilder(task: task)
            for template in c.templates.isEmpty ? [task.defaultTemplate] : c.templates {
                for variant in c.variants {
                    if variant == .abstractLabels && task.kind != .classification { continue }
                    for shots in variant == .zeroShot ? [0] : c.shots {
                        let spec = PromptSetSpec(task: taskName, variant: variant, shots: shots, template: template,
                                                 count: c.promptsPerSet, seed: c.seed)
                        let name = "\(taskName).\(variant.dumpName).k\(spec.effectiveShots).\(template)"
                        guard seen.insert(name).inserted else { continue }
                        let whole = try builder.build(spec)
                        let built = whole.sharded(shard)
                        let planned = try Self.plan(name: name, set: built, whole: whole, kind: task.kind, tokenizer: tokenizer,
                                                    addBOS: addBOS, config: model.config, positions: c.positions,
                                                    source: catalog.url(of: taskName)?.path ?? taskName)
                        if let metric = c.grads {
                            try Self.checkGradientMetric(metric, set: planned, source: catalog.url(of: taskName)?.path ?? taskName)
                        }
                        if planned.sharedFirstToken {
                            warnings.append("\(name): two labels share their first token; their logits coincide")
                        }
                        sets.append(planned)
                    }
                }
            }
        }
        self.sets = sets
        self.warnings = warnings
        var probes: [PlannedProbe] = []
        if c.probeSequences > 0 {
            let probe = InductionProbe(vocabularySize: model.config.vocabularySize, sequenceCount: c.probeSequences,
                                       repeatLength: c.probeLength, seed: c.seed)
            let all = try probe.sequences(isSpecial: tokenizer.isSpecial)
            let bos = tokenizer.bosTokenID.flatMap { addBOS ? $0 : nil }
            let kept = all.enumerated().filter { shard.contains(promptIndex: $0.offset) }
            probes.append(PlannedProbe(name: "induction.r\(c.probeLength)", promptIndices: kept.map(\.offset),
                                       tokens: kept.map { (bos.map { [$0] } ?? []) + $0.element }, repeatLength: c.probeLength,
                                       hasBOS: bos != nil, seed: c.seed))
        }
        self.probes = probes
    }

    /// The label margin compares the gold label with the others: an open-answer task has no
    /// label set, and labels that all share one first token leave nothing to compare.
    private static func checkGradientMetric(_ metric: AnswerMetric, set: PlannedSet, source: String) throws {
        guard metric.needsLabels else { return }
        guard set.kind == .classification else {
            throw InputError(file: source, "--grads \(metric.rawValue) needs a classification task, and \(set.promptSet.spec.task) is open-answer (gold-logprob and gold-prob work on any task)")
        }
        guard Set(set.labelIDs).count >= 2 else {
            throw InputError(file: source, "--grads \(metric.rawValue) needs labels with at least two different first tokens; every label of set \(set.name) starts with the same token")
        }
    }

    /// `set` is this shard's part of `whole`.
    private static func plan(name: String, set: PromptSet, whole: PromptSet, kind: TaskKind, tokenizer: any Tokenizer,
                             addBOS: Bool, config: ModelConfig, positions mode: CaptureConfiguration.Positions,
                             source: String) throws -> PlannedSet {
        // Labels: the first token of each label in the template's output format; open tasks
        // use the first tokens of their gold outputs, one entry per distinct token, taken from
        // the whole set so that every shard has the same labels (label_logits columns line up).
        let candidates = kind == .classification ? set.labelOutputs : Array(Set(whole.prompts.map(\.goldOutput))).sorted()
        var labelIDs: [Int32] = [], multiToken: [Int] = [], labelTexts: [String] = []
        for text in candidates {
            let ids = tokenizer.encode(text, addBOS: false)
            guard let first = ids.first, !tokenizer.isSpecial(first) else {
                throw InputError(file: source, "label \(text.debugDescription) has no ordinary token in the model's vocabulary")
            }
            if kind == .open && labelIDs.contains(first) { continue }
            labelIDs.append(first)
            multiToken.append(ids.count > 1 ? 1 : 0)
            labelTexts.append(kind == .classification ? text : tokenizer.tokenText(first))
        }
        let sharedFirstToken = kind == .classification && Set(labelIDs).count < labelIDs.count

        var tokens: [[Int32]] = [], masks: [[UInt8]] = [], demoInputs: [[(Int, Int)]] = []
        var demoOutputs: [[(Int, Int)]] = [], queries: [(Int, Int)] = [], captured: [[Int]] = []
        var gold: [Int32] = [], goldTokens: [Int32] = []
        for prompt in set.prompts {
            let encoded = tokenizer.encodeWithOffsets(prompt.text, addBOS: addBOS)
            let ids = encoded.map(\.id), offsets = encoded.map(\.bytes)
            if ids.count > config.contextLength {
                throw InputError(file: source, "set \(name) prompt \(prompt.index) has \(ids.count) tokens, more than the model's context of \(config.contextLength)")
            }
            tokens.append(ids)
            masks.append(ids.map { tokenizer.isSpecial($0) ? 1 : 0 })
            let inputs = prompt.demonstrations.map { TokenSpans.covering($0.inputSpan, offsets) }
            let outputs = prompt.demonstrations.map { TokenSpans.covering($0.outputSpan, offsets) }
            demoInputs.append(inputs)
            demoOutputs.append(outputs)
            queries.append(TokenSpans.covering(prompt.queryInputSpan, offsets))
            var positions = [ids.count - 1]
            if mode == .labels {
                // The token that predicts a demonstration's label token: the last one before its
                // output format (" {y}", leading space included) starts, as the answer position
                // is for the query. The output's own span can start one token later, where the
                // tokenizer splits the leading space off ("A:", " ", "un", ...).
                let prefixBytes = set.template.outputAffixes.prefix.utf8.count
                positions += prompt.demonstrations.map { demonstration in
                    let formatted = ByteSpan(start: demonstration.outputSpan.start - prefixBytes, end: demonstration.outputSpan.end)
                    return max(TokenSpans.covering(formatted, offsets).0 - 1, 0)
                }
            }
            captured.append(positions)
            let goldToken = tokenizer.encode(prompt.goldOutput, addBOS: false).first ?? -1
            goldTokens.append(goldToken)
            gold.append(kind == .classification ? Int32(prompt.goldLabelIndex ?? -1) : -1)
        }
        return PlannedSet(name: name, promptSet: set, kind: kind, tokens: tokens, specialMasks: masks,
                          demoInputSpans: demoInputs, demoOutputSpans: demoOutputs, querySpans: queries,
                          positions: captured, labelIDs: labelIDs, labelTexts: labelTexts,
                          multiTokenLabels: multiToken, sharedFirstToken: sharedFirstToken, gold: gold, goldTokens: goldTokens)
    }
}

/// Byte spans of a prompt's text to token spans.
enum TokenSpans {
    /// [start, end) of the tokens whose bytes overlap `span`; an empty span maps to the empty
    /// token span at the first token starting at or after it.
    static func covering(_ span: ByteSpan, _ offsets: [Range<Int>]) -> (Int, Int) {
        var first = offsets.count, last = 0
        for (i, bytes) in offsets.enumerated() where bytes.lowerBound < span.end && bytes.upperBound > span.start {
            first = min(first, i)
            last = max(last, i + 1)
        }
        if first == offsets.count {
            let start = offsets.firstIndex { $0.lowerBound >= span.start } ?? offsets.count
            return (start, start)
        }
        return (first, last)
    }
}
