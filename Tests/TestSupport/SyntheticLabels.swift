import Shared

/// A synthetic set's label tokens and every prompt's gold answer, decided for the whole set
/// (so every shard has the same label_ids). Label tokens come from the task, and gold answers
/// from the task and the prompt index, so prompt i of every variant of a task has the same
/// answer, as in real captures.
struct SyntheticLabels {
    let kind: TaskKind
    /// label_ids: classification, the task's labels; open, the distinct gold tokens of the
    /// whole set in the order of the task's answer pool.
    let ids: [Int32]
    let texts: [String]
    /// Classification: the labels. Open: the answers prompts draw from.
    private let pool: [Int32]
    private let seed: UInt64
    private let task: UInt64

    init(set: SyntheticSetSpec, seed: UInt64, vocabulary: Int) {
        kind = set.kind
        self.seed = seed
        let abstract = PromptVariant(dumpName: set.variant) == .abstractLabels
        task = SplitMix64.fnv1a(set.task)
        var rng = SplitMix64.synthetic(seed, .labels, task, abstract ? 1 : 0)
        pool = SyntheticVocabulary.distinctOrdinary(set.labelCount, &rng, vocabulary: vocabulary)
        if set.kind == .classification {
            ids = pool
            texts = pool.map { String(SyntheticVocabulary.text(of: $0).dropFirst()) }
        } else {
            let pool = self.pool, seed = self.seed, task = self.task
            let golds = Set((0..<set.promptCount).map { Self.goldIndex(prompt: $0, pool: pool.count, seed: seed, task: task) })
            ids = pool.indices.filter(golds.contains).map { pool[$0] }
            texts = ids.map(SyntheticVocabulary.text(of:))
        }
    }

    private static func goldIndex(prompt: Int, pool: Int, seed: UInt64, task: UInt64) -> Int {
        var rng = SplitMix64.synthetic(seed, .gold, task, UInt64(prompt))
        return rng.uniform(below: pool)
    }

    /// (gold, gold_token) of whole-set prompt `index`; gold is -1 for open tasks.
    func gold(ofPrompt index: Int) -> (Int32, Int32) {
        let i = Self.goldIndex(prompt: index, pool: pool.count, seed: seed, task: task)
        return (kind == .classification ? Int32(i) : -1, pool[i])
    }

    /// A demonstration's output token: any label, or any answer of the pool.
    func demonstrationOutput(_ rng: inout SplitMix64) -> Int32 {
        pool[rng.uniform(below: pool.count)]
    }
}
