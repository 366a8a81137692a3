import Shared

/// The bootstrap's draw (HeadBootstrap, and through it Interval.bootstrapMean).
enum Resampling {
    /// One resample with replacement of n = multiplicity.count items, as how many times each item
    /// was drawn: n draws of SplitMix64(seed: derive(seed, replicate)).uniform(below: n). Summing
    /// count × value in item order afterwards makes the replicate's statistic independent of the
    /// order of the draws.
    static func drawMultiplicities(_ multiplicity: inout [Int], seed: UInt64, replicate: Int) {
        let n = multiplicity.count
        for i in 0..<n { multiplicity[i] = 0 }
        var generator = SplitMix64(seed: SplitMix64.derive(seed, UInt64(replicate)))
        for _ in 0..<n { multiplicity[generator.uniform(below: n)] += 1 }
    }
}
