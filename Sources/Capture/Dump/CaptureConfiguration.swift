import Foundation
import Shared

/// Every option that decides what a capture contains. Stored as JSON in the dump
/// (`capture_config`); resuming or merging shards requires it to be identical.
public struct CaptureConfiguration: Codable, Equatable, Sendable {
    public enum Positions: String, Codable, Sendable, CaseIterable {
        /// The answer position only (the last prompt token, which predicts the answer).
        case answer
        /// The answer position, then for each demonstration the position before its output
        /// (where the model predicts that demonstration's label).
        case labels
    }

    public enum ActivationType: String, Codable, Sendable, CaseIterable {
        case f32, f16
    }

    public var tasks: [String]
    public var variants: [PromptVariant]
    public var shots: [Int]
    public var promptsPerSet: Int
    public var seed: UInt64
    /// Template names; empty means each task's own default template.
    public var templates: [String]
    public var positions: Positions
    /// Induction probe sequences (0: no probe set) of `probeLength` random tokens repeated twice.
    public var probeSequences: Int
    public var probeLength: Int
    public var activationType: ActivationType
    public var topK: Int
    /// Store every unembedding row, not only those of label and gold tokens.
    public var fullUnembedding: Bool
    /// nil: as the model's tokenizer config says.
    public var bos: Bool?
    /// The metric whose gradients the capture stores (`--grads`); nil: none. Left out of the
    /// JSON when nil, so captures without it keep the configuration text they had before.
    public var grads: AnswerMetric?

    public init(tasks: [String], variants: [PromptVariant], shots: [Int], promptsPerSet: Int, seed: UInt64,
                templates: [String] = [], positions: Positions = .answer, probeSequences: Int = 10,
                probeLength: Int = 50, activationType: ActivationType = .f32, topK: Int = 10,
                fullUnembedding: Bool = false, bos: Bool? = nil, grads: AnswerMetric? = nil) {
        self.tasks = tasks
        self.variants = variants
        self.shots = shots
        self.promptsPerSet = promptsPerSet
        self.seed = seed
        self.templates = templates
        self.positions = positions
        self.probeSequences = probeSequences
        self.probeLength = probeLength
        self.activationType = activationType
        self.topK = topK
        self.fullUnembedding = fullUnembedding
        self.bos = bos
        self.grads = grads
    }

    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }
}
