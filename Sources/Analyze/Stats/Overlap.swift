/// How much two selections (of heads, say) agree.
public enum Overlap {
    /// Jaccard index |a ∩ b| / |a ∪ b|, in 0...1. Two empty sets are identical selections, so
    /// their index is 1 (never NaN).
    public static func jaccard(_ a: Set<Int>, _ b: Set<Int>) -> Double {
        let union = a.union(b).count
        guard union > 0 else { return 1 }
        return Double(a.intersection(b).count) / Double(union)
    }
}
