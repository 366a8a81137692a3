import Shared

/// What a key of a prompt is, in the analyzer's order of precedence.
enum SyntheticKeyCategory: Int, CaseIterable {
    case special, demoOutputs, demoInputs, query, template
    static let count = allCases.count
}

/// One prompt laid out as the capture lays out "Q:{x}\nA: {y}\n\n" prompts:
/// BOS, then per demonstration "Q:" x... "\n" "A:" y "\n\n", then the query "Q:" x... "\n" "A:".
/// The answer position is the final "A:".
struct SyntheticPrompt {
    /// Index in the whole set.
    let index: Int
    let tokens: [Int32]
    let categories: [SyntheticKeyCategory]   // per token
    let demoInputSpans: [(Int, Int)]         // [shots] of [start, end)
    let demoOutputSpans: [(Int, Int)]
    let querySpan: (Int, Int)
    /// Captured positions: the answer position, then (label positions) the token before each
    /// demonstration's output.
    let positions: [Int]
    let gold: Int32
    let goldToken: Int32

    var text: String { tokens.dropFirst().map(SyntheticVocabulary.text(of:)).joined() }
    var goldText: String { SyntheticVocabulary.text(of: goldToken) }

    init(index: Int, set: SyntheticSetSpec, labels: SyntheticLabels, seed: UInt64, vocabulary: Int,
         labelPositions: Bool) {
        self.index = index
        // Inputs depend on the task, shots and template, outputs on the set: prompt i of each
        // variant has the same demonstration inputs and query, as in real captures.
        var rng = SplitMix64.synthetic(seed, .layout, SplitMix64.fnv1a("\(set.task).k\(set.shots).\(set.template)"), UInt64(index))
        var outputRNG = SplitMix64.synthetic(seed, .demonstrationOutputs, SplitMix64.fnv1a(set.name), UInt64(index))
        let length = set.tokens.lowerBound + rng.uniform(below: set.tokens.count)
        // Input tokens left once every fixed token is placed, shared out as evenly as they go.
        let inputTokens = length - SyntheticSetSpec.minimumTokens(shots: set.shots) + set.shots + 1
        let parts = set.shots + 1
        var tokens: [Int32] = [SyntheticVocabulary.bos]
        var categories: [SyntheticKeyCategory] = [.special]
        var inputs: [(Int, Int)] = [], outputs: [(Int, Int)] = []
        func append(_ token: Int32, _ category: SyntheticKeyCategory) {
            tokens.append(token)
            categories.append(category)
        }
        for part in 0..<parts {
            append(SyntheticVocabulary.question, .template)
            let start = tokens.count
            for _ in 0..<(inputTokens / parts + (part < inputTokens % parts ? 1 : 0)) {
                append(SyntheticVocabulary.ordinary(&rng, vocabulary: vocabulary), part < set.shots ? .demoInputs : .query)
            }
            inputs.append((start, tokens.count))
            append(SyntheticVocabulary.newline, .template)
            append(SyntheticVocabulary.answer, .template)
            if part < set.shots {
                outputs.append((tokens.count, tokens.count + 1))
                append(labels.demonstrationOutput(&outputRNG), .demoOutputs)
                append(SyntheticVocabulary.separator, .template)
            }
        }
        self.tokens = tokens
        self.categories = categories
        demoInputSpans = Array(inputs.dropLast())
        demoOutputSpans = outputs
        querySpan = inputs[inputs.count - 1]
        positions = [tokens.count - 1] + (labelPositions ? outputs.map { $0.0 - 1 } : [])
        (gold, goldToken) = labels.gold(ofPrompt: index)
    }
}
