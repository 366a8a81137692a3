import Shared

/// One synthetic set as this file holds it: its labels and this shard's prompts, with the
/// size of every dimension of /sets/{set}.
struct SyntheticSetPlan {
    let spec: SyntheticSetSpec
    let labels: SyntheticLabels
    /// This shard's prompts, in whole-set index order.
    let prompts: [SyntheticPrompt]
    let positionCount: Int
    let topK: Int

    init(_ set: SyntheticSetSpec, dump: SyntheticDumpSpec) {
        spec = set
        labels = SyntheticLabels(set: set, seed: dump.seed, vocabulary: dump.model.vocabulary)
        let labelPositions = dump.positions == .labels
        positionCount = labelPositions ? 1 + set.shots : 1
        topK = dump.topK
        let labels = self.labels
        prompts = (0..<set.promptCount).filter(dump.shard.contains(promptIndex:)).map {
            SyntheticPrompt(index: $0, set: set, labels: labels, seed: dump.seed, vocabulary: dump.model.vocabulary,
                            labelPositions: labelPositions)
        }
    }

    var name: String { spec.name }
    var key: UInt64 { SplitMix64.fnv1a(spec.name) }
    var maxTokens: Int { prompts.map(\.tokens.count).max() ?? 0 }

    /// Sizes of the set group's own dimensions.
    var dimensionSizes: [String: Int] {
        ["prompt": prompts.count, "token": maxTokens, "position": positionCount, "shot": spec.shots,
         "label": labels.ids.count, "top": topK, "bound": 2]
    }

    /// How strongly the label heads write the gold label here: demonstrations with the true
    /// mapping teach it, corrupted ones half as well, none not at all.
    var labelPushFactor: Float {
        switch PromptVariant(dumpName: spec.variant) {
        case .clean?, .abstractLabels?: 1
        case .shuffledLabels?, .randomLabels?: 0.5
        case .zeroShot?, nil: 0
        }
    }

    func isDone(_ prompt: SyntheticPrompt) -> Bool { !spec.undonePrompts.contains(prompt.index) }
}
