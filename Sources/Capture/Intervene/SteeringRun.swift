import Foundation
import Shared

// Legend: R = rows of a batch, V = steering vectors ("none" first), S = steering layers,
// Y = labels, D = d_model.

/// One vector to steer with, scaled, and the file it came from.
public struct SteeringVector: Sendable {
    public let name: String
    /// What its head set is (TaskVectorFile.Vector.family): "none", "tr", "tl", "random", ...
    public let family: String
    /// scale * the file's values: [D]; zero for "none".
    public let values: [Float]
    /// The task-vector file, or "" for "none".
    public let file: String
    /// The query token ids of the prompts the vector was computed from.
    public let scoringQueries: Set<[Int32]>

    public init(name: String, family: String, values: [Float], file: String, scoringQueries: Set<[Int32]>) {
        self.name = name
        self.family = family
        self.values = values
        self.file = file
        self.scoringQueries = scoringQueries
    }
}

/// Steering with task vectors through the model on a dump's prompts (docs/methods.md §16):
/// each vector, at each layer, added to resid_pre of the last prompt token; per prompt,
/// vector and layer, the analyzer's metrics from the model's logits.
public struct SteeringRun {
    public let transformer: Transformer
    /// "none" (no vector) first.
    public let vectors: [SteeringVector]
    public let layers: [Int]
    /// Most prompt tokens per prefix pass.
    public var batchTokens = 2048

    public init(transformer: Transformer, vectors: [SteeringVector], layers: [Int]) {
        self.transformer = transformer
        self.vectors = vectors
        self.layers = layers
    }

    /// 1 where row p's query is not among vector v's scoring queries ("none": 1): [P, V]
    public func outsideScoring(_ set: DumpPromptSet) -> [UInt8] {
        set.queries.flatMap { query in vectors.map { $0.scoringQueries.contains(query) ? 0 : 1 } }
    }

    /// Runs the set's rows that the capture finished and `finished` does not mark, writing
    /// each batch's results with `write(rows, values)`.
    public func run(_ set: DumpPromptSet, finished: [Bool], progress: ProgressReporter?,
                    write: (Range<Int>, [String: InterventionValues]) throws -> Void) throws {
        let v = vectors.count, s = layers.count
        for rows in RowBatches.pending(set, finished: finished, batchTokens: batchTokens) {
            let prompts = rows.map { set.tokens[$0] }
            // Variant j of a prompt is vector 1 + j / S at layer layers[j % S]; "none" is the unchanged run.
            let additions = prompts.map { _ in
                vectors.dropFirst().flatMap { vector in layers.map { ResidualAddition(layer: $0, vector: vector.values) } }
            }
            var results = [AnswerMetrics?](repeating: nil, count: rows.count * v * s)   // [R, V, S]
            try LastTokenInterventions(transformer: transformer).run(prompts: prompts, additions: additions) { b, j, logits in
                let metrics = AnswerMetrics(logits: logits, gold: set.goldTokens[rows.lowerBound + b], labels: set.labelIDs)
                if j < 0 {
                    for layer in 0..<s { results[(b * v) * s + layer] = metrics }
                } else {
                    results[(b * v + 1 + j / s) * s + j % s] = metrics
                }
            }
            let flat = results.map { $0! }
            let gold = rows.flatMap { row in Array(repeating: set.goldTokens[row], count: v * s) }
            let labels = Set(set.labelIDs)
            var values: [String: InterventionValues] = [
                "steer_gold_logprob": .float32(flat.map(\.goldLogprob)),
                "steer_argmax": .int32(flat.map(\.argmax)),
                "steer_correct": .uint8(zip(flat, gold).map { $0.argmax == $1 ? 1 : 0 }),
                "steer_label_logits": .float32(flat.flatMap(\.labelLogits)),
            ]
            if set.kind == .classification { values["steer_in_label_set"] = .uint8(flat.map { labels.contains($0.argmax) ? 1 : 0 }) }
            try write(rows, values)
            progress?.advance(by: rows.count, tokens: prompts.reduce(0) { $0 + $1.count }, label: set.name)
        }
    }
}
