import Shared

public struct SyntheticHead: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let layer: Int
    public let head: Int

    public init(layer: Int, head: Int) {
        self.layer = layer
        self.head = head
    }

    public static func < (a: Self, b: Self) -> Bool { (a.layer, a.head) < (b.layer, b.head) }
    public var description: String { "L\(layer)H\(head)" }
}

/// The heads a synthetic dump gives a known behaviour, so that tests can check the analyzer
/// finds them. Disjoint; each list sorted by (layer, head).
public struct SyntheticPlantedHeads: Sendable, Hashable {
    /// At the answer position, z gains a component along W_O[l, h] (gamma ⊙ w_gold), so the
    /// head writes the gold label's unembedding direction (high TR, TL and DLA): together they
    /// move the gold logit by about 2.5 noise standard deviations in clean and abstract-label
    /// sets, half that with shuffled or random labels, and not at all zero-shot. Their
    /// attention leans to the demonstrations' outputs. In the upper half of the layers.
    public let label: [SyntheticHead]
    /// On the probe's second copy, query q attends mostly to key q - R + 1.
    public let induction: [SyntheticHead]
    /// On the probe, query q attends mostly to key q - 1.
    public let previousToken: [SyntheticHead]

    /// About 3% of the heads (at least one) write labels, 2% are induction heads and 2%
    /// previous-token heads, drawn from the seed.
    public init(model: SyntheticModelSpec, seed: UInt64) {
        var rng = SplitMix64.synthetic(seed, .plantedHeads)
        var heads = (0..<model.layers).flatMap { l in (0..<model.heads).map { SyntheticHead(layer: l, head: $0) } }
        rng.shuffle(&heads)
        let total = heads.count
        let upperHalf = heads.filter { $0.layer >= model.layers / 2 }
        let label = Array(upperHalf.prefix(max(1, total * 3 / 100)))
        let rest = heads.filter { !label.contains($0) }
        let specialists = max(1, total / 50)
        self.label = label.sorted()
        induction = Array(rest.prefix(specialists)).sorted()
        previousToken = Array(rest.dropFirst(specialists).prefix(specialists)).sorted()
    }
}
