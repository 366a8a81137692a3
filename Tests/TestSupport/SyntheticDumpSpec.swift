import Capture
import Shared

/// The shape of the fake model behind a synthetic dump.
public struct SyntheticModelSpec: Sendable, Hashable {
    public var layers: Int
    public var heads: Int
    public var kvHeads: Int
    public var dHead: Int
    public var dModel: Int
    public var vocabulary: Int
    /// Store /model/b_O (the optional output-projection bias).
    public var outputBias: Bool
    public var rmsNormEpsilon: Double
    /// An RMSNorm on each layer's attention output before the residual add, as Gemma 3's
    /// (format 1.4's /model attention_output_norm "rms").
    public var attentionOutputNorm: Bool

    public init(layers: Int, heads: Int, kvHeads: Int, dHead: Int, dModel: Int, vocabulary: Int,
                outputBias: Bool = false, rmsNormEpsilon: Double = 1e-5, attentionOutputNorm: Bool = false) {
        self.layers = layers
        self.heads = heads
        self.kvHeads = kvHeads
        self.dHead = dHead
        self.dModel = dModel
        self.vocabulary = vocabulary
        self.outputBias = outputBias
        self.rmsNormEpsilon = rmsNormEpsilon
        self.attentionOutputNorm = attentionOutputNorm
    }

    /// SmolLM2-135M's shape.
    public static let smolLM2 = SyntheticModelSpec(layers: 30, heads: 9, kvHeads: 3, dHead: 64, dModel: 576,
                                                   vocabulary: 49152)
    /// A model small enough for unit tests.
    public static let tiny = SyntheticModelSpec(layers: 3, heads: 4, kvHeads: 2, dHead: 8, dModel: 32, vocabulary: 512)
}

/// One prompt set of a synthetic dump, named as the capture names sets:
/// "{task}.{variant}.k{shots}.{template}".
public struct SyntheticSetSpec: Sendable, Hashable {
    public var task: String
    public var kind: TaskKind
    /// The dump's spelling, e.g. "shuffled_labels".
    public var variant: String
    public var shots: Int
    public var template: String
    /// Prompts of the whole set (all shards).
    public var promptCount: Int
    /// Tokens per prompt, BOS included: each prompt draws its length from this range.
    public var tokens: ClosedRange<Int>
    /// Classification: the task's labels. Open: the distinct answers prompts draw their gold
    /// answer from (label_ids holds those that some prompt of the whole set has).
    public var labelCount: Int
    /// Whole-set prompt indices whose rows stay not done (done = 0, NaN in their float rows).
    public var undonePrompts: Set<Int>

    public init(task: String, kind: TaskKind = .classification, variant: String = "clean", shots: Int = 4,
                template: String = "qa", promptCount: Int, tokens: ClosedRange<Int>, labelCount: Int,
                undonePrompts: Set<Int> = []) {
        self.task = task
        self.kind = kind
        self.variant = variant
        self.shots = shots
        self.template = template
        self.promptCount = promptCount
        self.tokens = tokens
        self.labelCount = labelCount
        self.undonePrompts = undonePrompts
    }

    public var name: String { "\(task).\(variant).k\(shots).\(template)" }

    /// The fewest tokens a prompt of `shots` demonstrations can have: BOS, then per
    /// demonstration "Q:" x "\n" "A:" y "\n\n" with x at least one token, then the query.
    public static func minimumTokens(shots: Int) -> Int { 1 + 6 * shots + 4 }
}

/// The induction probe of a synthetic dump: BOS (optional) + R distinct ordinary tokens, twice.
public struct SyntheticProbeSpec: Sendable, Hashable {
    public var sequences: Int
    public var repeatLength: Int
    public var bos: Bool
    /// Sequence indices whose rows stay not done.
    public var undoneSequences: Set<Int>

    public init(sequences: Int, repeatLength: Int, bos: Bool = true, undoneSequences: Set<Int> = []) {
        self.sequences = sequences
        self.repeatLength = repeatLength
        self.bos = bos
        self.undoneSequences = undoneSequences
    }

    public var name: String { "induction.r\(repeatLength)" }
    /// Tokens per sequence: b + 2R.
    public var tokenCount: Int { (bos ? 1 : 0) + 2 * repeatLength }
}

/// Everything that decides a synthetic dump's contents; the same spec gives the same bytes.
public struct SyntheticDumpSpec: Sendable, Hashable {
    public var model: SyntheticModelSpec
    /// Store every unembedding row (as `--full-unembed`), not only those of label and gold tokens.
    public var fullUnembedding: Bool
    public var activationType: CaptureConfiguration.ActivationType
    public var shard: Shard
    /// The format the file claims: "1.1", or "1.0", which leaves out the datasets added in 1.1.
    public var formatVersion: String
    public var seed: UInt64
    public var sets: [SyntheticSetSpec]
    public var probe: SyntheticProbeSpec?
    /// Captured positions: the answer position, or also the position before each
    /// demonstration's output (`--positions labels`).
    public var positions: CaptureConfiguration.Positions
    public var topK: Int

    public init(model: SyntheticModelSpec, fullUnembedding: Bool = false,
                activationType: CaptureConfiguration.ActivationType = .f32, shard: Shard = .whole,
                formatVersion: String = DumpFormat.version, seed: UInt64 = 1, sets: [SyntheticSetSpec],
                probe: SyntheticProbeSpec? = nil, positions: CaptureConfiguration.Positions = .answer, topK: Int = 10) {
        self.model = model
        self.fullUnembedding = fullUnembedding
        self.activationType = activationType
        self.shard = shard
        self.formatVersion = formatVersion
        self.seed = seed
        self.sets = sets
        self.probe = probe
        self.positions = positions
        self.topK = topK
    }

    /// Throws an InputError naming the first thing a dump cannot be made of.
    func validate() throws {
        let m = model
        func fail(_ problem: String) -> InputError { InputError(file: nil, "synthetic dump: \(problem)") }
        guard m.layers >= 1, m.heads >= 1, m.dHead >= 1, m.dModel >= 1 else {
            throw fail("layers, heads, d_head and d_model must be positive")
        }
        guard m.kvHeads >= 1, m.heads % m.kvHeads == 0 else { throw fail("\(m.heads) heads cannot share \(m.kvHeads) KV heads") }
        guard m.layers * m.heads >= 3 else { throw fail("needs at least 3 heads to plant label, induction and previous-token heads") }
        guard m.vocabulary >= SyntheticVocabulary.firstOrdinary + 64, m.vocabulary <= Int(Int32.max) else {
            throw fail("vocabulary \(m.vocabulary) is too small (at least \(SyntheticVocabulary.firstOrdinary + 64))")
        }
        if model.attentionOutputNorm && formatVersion == "1.0" {
            throw fail("an attention output norm needs format 1.4 or later")
        }
        guard ["1.0", DumpFormat.version].contains(formatVersion) else {
            throw fail("format version \(formatVersion): only 1.0 and \(DumpFormat.version) can be written")
        }
        guard topK >= 1, topK <= m.vocabulary else { throw fail("top-k \(topK) outside 1...\(m.vocabulary)") }
        guard !sets.isEmpty || probe != nil else { throw fail("no sets and no probe") }
        var names = Set<String>()
        for set in sets {
            guard names.insert(set.name).inserted else { throw fail("set \(set.name) appears twice") }
            guard let variant = PromptVariant(dumpName: set.variant) else {
                throw fail("set \(set.name): unknown variant \(set.variant)")
            }
            guard (variant == .zeroShot) == (set.shots == 0), set.shots >= 0 else {
                throw fail("set \(set.name): zero_shot sets, and only they, have 0 shots")
            }
            guard set.kind == .classification || variant != .abstractLabels else {
                throw fail("set \(set.name): abstract_labels needs a classification task")
            }
            guard set.promptCount >= 1 else { throw fail("set \(set.name) needs at least one prompt") }
            guard set.tokens.lowerBound >= SyntheticSetSpec.minimumTokens(shots: set.shots) else {
                throw fail("set \(set.name): \(set.shots) shots need prompts of at least \(SyntheticSetSpec.minimumTokens(shots: set.shots)) tokens, not \(set.tokens.lowerBound)")
            }
            guard set.labelCount >= 1, set.labelCount <= (m.vocabulary - SyntheticVocabulary.firstOrdinary) / 2 else {
                throw fail("set \(set.name): label count \(set.labelCount) does not fit the vocabulary")
            }
        }
        if let probe {
            guard probe.sequences >= 1, probe.repeatLength >= 2,
                  probe.repeatLength <= m.vocabulary - SyntheticVocabulary.firstOrdinary else {
                throw fail("probe needs at least one sequence and 2 <= R <= the ordinary tokens")
            }
        }
    }

    /// Whether the file holds `dataset` of the layout.
    func includes(_ dataset: DumpDataset) -> Bool {
        if dataset.name.hasPrefix("attention_output_norm_") { return model.attentionOutputNorm }
        return dataset.optional ? dataset.name == "b_O" && model.outputBias : dataset.isRequired(inVersion: formatVersion)
    }
}
