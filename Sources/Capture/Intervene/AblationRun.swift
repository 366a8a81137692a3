import Foundation
import Shared

// Legend: R = rows of a batch, S = head sets ("none" first), Y = labels, L = layers, H = heads,
// E = head_dim.

/// What replaces an ablated head's z.
public enum AblationMode: String, Sendable, Codable, CaseIterable {
    /// Zero (Yang, Cho & Inoue).
    case zero
    /// The clean set's mean at the answer position (Yin & Steinhardt; docs/methods.md §14).
    case mean
}

/// Where the replacement applies.
public enum AblationPositions: String, Sendable, Codable, CaseIterable {
    /// The answer position (the last prompt token) only.
    case answer
    /// Every position of the prompt; mean ablation uses the answer-position mean everywhere.
    case all
}

/// Ablation of head sets through the model on a dump's prompts (docs/methods.md §14): per
/// prompt and head set, the analyzer's metrics from the model's logits.
public struct AblationRun {
    public let transformer: Transformer
    public let mode: AblationMode
    public let positions: AblationPositions
    /// "none" (no heads) first, then the sets of the head-set files.
    public let headSets: [HeadSet]
    /// Most prompt tokens per forward pass.
    public var batchTokens = 2048

    public init(transformer: Transformer, mode: AblationMode, positions: AblationPositions, headSets: [HeadSet]) {
        self.transformer = transformer
        self.mode = mode
        self.positions = positions
        self.headSets = headSets
    }

    /// One prompt set to run: its rows, and for mean ablation its clean partner's mean.
    public struct Job {
        public let set: DumpPromptSet
        public let mean: CleanMean?
        /// The clean set evaluated on itself: each row's mean leaves the row out.
        public var leaveOneOut: Bool { mean.map { $0.set.name == set.name } ?? false }

        public init(set: DumpPromptSet, mean: CleanMean?) {
            self.set = set
            self.mean = mean
        }
    }

    /// Runs the job's rows that the capture finished and `finished` does not mark, writing
    /// each batch's results with `write(rows, values)`.
    public func run(_ job: Job, finished: [Bool], progress: ProgressReporter?,
                    write: (Range<Int>, [String: InterventionValues]) throws -> Void) throws {
        let set = job.set
        let fullMean = job.leaveOneOut ? nil : job.mean?.mean
        for rows in RowBatches.pending(set, finished: finished, batchTokens: batchTokens) {
            // Each row's replacement z of every head, [L, H, E], or nil for zero ablation.
            var replacements: [[Float]?] = []
            if mode == .mean, let mean = job.mean {
                if job.leaveOneOut {
                    replacements = rows.map { mean.mean(leavingOut: $0) }
                } else {
                    replacements = Array(repeating: fullMean, count: rows.count)
                }
            } else {
                replacements = Array(repeating: nil, count: rows.count)
            }
            let variants = replacements.map { replacement in headSets.map { patches(for: $0, replacement: replacement) } }
            var results = [[AnswerMetrics?]](repeating: [AnswerMetrics?](repeating: nil, count: headSets.count), count: rows.count)
            let prompts = rows.map { set.tokens[$0] }
            func record(_ b: Int, _ s: Int, _ logits: ArraySlice<Float>) {
                results[b][s] = AnswerMetrics(logits: logits, gold: set.goldTokens[rows.lowerBound + b], labels: set.labelIDs)
            }
            switch positions {
            case .answer:
                try LastTokenInterventions(transformer: transformer).run(prompts: prompts, variants: variants) { b, s, logits in
                    if s >= 0 { record(b, s, logits) }
                }
            case .all:
                let config = transformer.config
                for s in headSets.indices {
                    let hooks = Hooks.patching(variants.map { $0[s] }, headCount: config.headCount, headDim: config.headDim,
                                               allPositions: true)
                    let output = try transformer.forward(prompts.map { SequenceInput(tokens: $0) }, logits: .last, hooks: hooks)
                    for b in prompts.indices { record(b, s, output.lastLogits(of: b)) }
                }
            }
            try write(rows, values(results.map { $0.map { $0! } }, set: set, rows: rows))
            progress?.advance(by: rows.count, tokens: prompts.reduce(0) { $0 + $1.count }, label: set.name)
        }
    }

    /// The patches of one head set for one prompt.
    private func patches(for headSet: HeadSet, replacement: [Float]?) -> [HeadPatch] {
        let config = transformer.config
        let e = config.headDim
        return headSet.heads.map { id in
            let start = (id.layer * config.headCount + id.head) * e
            return HeadPatch(layer: id.layer, head: id.head, values: replacement.map { Array($0[start..<(start + e)]) })
        }
    }

    /// The datasets' rows: [R, S] per metric, [R, S, Y] label logits.
    private func values(_ results: [[AnswerMetrics]], set: DumpPromptSet, rows: Range<Int>) -> [String: InterventionValues] {
        let flat = results.flatMap { $0 }
        let gold = rows.flatMap { row in Array(repeating: set.goldTokens[row], count: headSets.count) }
        let labels = Set(set.labelIDs)
        var values: [String: InterventionValues] = [
            "gold_logprob": .float32(flat.map(\.goldLogprob)),
            "argmax": .int32(flat.map(\.argmax)),
            "correct": .uint8(zip(flat, gold).map { $0.argmax == $1 ? 1 : 0 }),
            "label_logits": .float32(flat.flatMap(\.labelLogits)),
        ]
        if set.kind == .classification { values["in_label_set"] = .uint8(flat.map { labels.contains($0.argmax) ? 1 : 0 }) }
        return values
    }
}

/// Runs of consecutive rows that the capture finished and an intervention has not, each
/// within a token budget, so that every batch is one contiguous block of rows in the dump.
enum RowBatches {
    static func pending(_ set: DumpPromptSet, finished: [Bool], batchTokens: Int) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var start: Int?, budget = 0
        for row in 0..<set.rowCount {
            let skip = !set.done[row] || (row < finished.count && finished[row])
            if let s = start, skip || budget + set.tokens[row].count > batchTokens {
                result.append(s..<row)
                start = nil
            }
            if skip { continue }
            if start == nil { start = row; budget = 0 }
            budget += set.tokens[row].count
        }
        if let s = start { result.append(s..<set.rowCount) }
        return result
    }
}
