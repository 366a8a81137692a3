import Foundation
import Shared

// Legend: R = rows of a batch, S = head sets ("none" first), N = generated tokens, Y = labels,
// L = layers, H = heads, E = head_dim.

/// Mean ablation of head sets during greedy generation (Yin & Steinhardt; docs/methods.md §17):
/// each head of a set has its z replaced by the clean mean at the last prompt token and at
/// every generated token. Per prompt and head set: the analyzer's metrics of the first
/// token's logits, the greedy continuation and its token F1 against the gold answer.
public struct AblatedGeneration {
    public let transformer: Transformer
    /// "none" (no heads) first.
    public let headSets: [HeadSet]
    public let newTokens: Int
    /// Generation of a continuation ends after one of these (EOS).
    public let stopTokens: Set<Int32>
    /// Token ids to text (the model's tokenizer).
    public let decode: ([Int32]) -> String
    /// Most continuations per forward pass; each holds a copy of its prompt's prefix cache.
    public var sequencesPerPass = 64
    /// Most prompt tokens per batch of rows written together.
    public var batchTokens = 2048

    public init(transformer: Transformer, headSets: [HeadSet], newTokens: Int, stopTokens: Set<Int32>,
                decode: @escaping ([Int32]) -> String) {
        self.transformer = transformer
        self.headSets = headSets
        self.newTokens = newTokens
        self.stopTokens = stopTokens
        self.decode = decode
    }

    /// One prompt under every head set.
    public struct PromptResult {
        /// Metrics of the first generated position's logits: [S]
        public var first: [AnswerMetrics]
        /// Greedy continuation per head set, ending after a stop token or at newTokens: [S][<= N]
        public var generated: [[Int32]]
        /// Token F1 of each continuation (stop token excluded) against the gold text: [S]
        public var f1: [Double]
    }

    /// Runs one prompt: `replacement` is every head's replacement z, [L, H, E].
    public func run(prompt: [Int32], replacement: [Float], gold: Int32, goldText: String, labels: [Int32]) throws -> PromptResult {
        let config = transformer.config
        let e = config.headDim
        let patches = headSets.map { set in
            set.heads.map { id -> HeadPatch in
                let start = (id.layer * config.headCount + id.head) * e
                return HeadPatch(layer: id.layer, head: id.head, values: Array(replacement[start..<(start + e)]))
            }
        }
        let prefix = KVCache(config: config, reservedTokens: prompt.count)
        if prompt.count > 1 {
            _ = try transformer.forward([SequenceInput(tokens: Array(prompt.dropLast()), cache: prefix)], logits: .none)
        }
        var first = [AnswerMetrics?](repeating: nil, count: headSets.count)
        var generated = [[Int32]](repeating: [], count: headSets.count)
        for start in stride(from: 0, to: headSets.count, by: max(1, sequencesPerPass)) {
            let chunk = Array(start..<min(headSets.count, start + max(1, sequencesPerPass)))
            let caches = chunk.map { _ in prefix.copy(reservingTokens: prompt.count + newTokens) }
            var next = chunk.map { _ in prompt.last! }
            var active = Array(chunk.indices)
            for step in 0..<newTokens where !active.isEmpty {
                let hooks = Hooks.patching(active.map { patches[chunk[$0]] }, headCount: config.headCount, headDim: e,
                                           allPositions: false)
                let output = try transformer.forward(active.map { SequenceInput(tokens: [next[$0]], cache: caches[$0]) },
                                                     logits: .last, hooks: hooks)
                var still: [Int] = []
                for (i, c) in active.enumerated() {
                    let logits = output.lastLogits(of: i), s = chunk[c]
                    if step == 0 { first[s] = AnswerMetrics(logits: logits, gold: gold, labels: labels) }
                    let token = Transformer.argmax(logits)
                    generated[s].append(token)
                    next[c] = token
                    if !stopTokens.contains(token) && prompt.count + step + 1 < config.contextLength { still.append(c) }
                }
                active = still
            }
        }
        let f1 = generated.map { tokens in
            TokenF1.score(continuation: decode(Array(tokens.prefix { !stopTokens.contains($0) })), reference: goldText)
        }
        return PromptResult(first: first.map { $0! }, generated: generated, f1: f1)
    }

    /// Runs the job's rows that the capture finished and `finished` does not mark, writing
    /// each batch's results with `write(rows, values)`.
    public func run(_ job: AblationRun.Job, finished: [Bool], progress: ProgressReporter?,
                    write: (Range<Int>, [String: InterventionValues]) throws -> Void) throws {
        let set = job.set
        guard let mean = job.mean else { preconditionFailure("mean ablation needs a clean mean") }
        let fullMean = mean.mean
        let labels = Set(set.labelIDs)
        for rows in RowBatches.pending(set, finished: finished, batchTokens: batchTokens) {
            var results: [PromptResult] = []
            for row in rows {
                results.append(try run(prompt: set.tokens[row], replacement: job.leaveOneOut ? mean.mean(leavingOut: row) : fullMean,
                                       gold: set.goldTokens[row], goldText: set.goldText[row], labels: set.labelIDs))
                progress?.advance(by: 1, tokens: set.tokens[row].count, label: set.name)
            }
            let flat = results.flatMap(\.first)
            let gold = rows.flatMap { row in Array(repeating: set.goldTokens[row], count: headSets.count) }
            var values: [String: InterventionValues] = [
                "gold_logprob": .float32(flat.map(\.goldLogprob)),
                "argmax": .int32(flat.map(\.argmax)),
                "correct": .uint8(zip(flat, gold).map { $0.argmax == $1 ? 1 : 0 }),
                "label_logits": .float32(flat.flatMap(\.labelLogits)),
                "generated_ids": .int32(results.flatMap { result in
                    result.generated.flatMap { $0 + [Int32](repeating: -1, count: newTokens - $0.count) }
                }),
                "generation_f1": .float32(results.flatMap { $0.f1.map(Float.init) }),
            ]
            if set.kind == .classification { values["in_label_set"] = .uint8(flat.map { labels.contains($0.argmax) ? 1 : 0 }) }
            try write(rows, values)
        }
    }
}
