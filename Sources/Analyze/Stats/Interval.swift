/// Confidence intervals for a proportion and for a mean.
public enum Interval {
    /// Wilson's score interval for `successes` of `trials` (statsmodels'
    /// proportion_confint(method='wilson')): centre (p + z²/2n) / (1 + z²/n), half-width
    /// z sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n), with z the normal critical value for
    /// `confidence`; bounds are clamped to 0...1 against rounding. nil for 0 trials, successes
    /// outside 0...trials, or a confidence outside (0, 1).
    public static func wilson(successes: Int, trials: Int, confidence: Double = 0.95) -> ConfidenceInterval? {
        guard trials > 0, (0...trials).contains(successes),
              let lowerTail = StandardNormal.quantile((1 - confidence) / 2) else { return nil }
        let z = -lowerTail, n = Double(trials)
        let p = Double(successes) / n
        let shrink = 1 + z * z / n
        let centre = (p + z * z / (2 * n)) / shrink
        let halfWidth = z * (p * (1 - p) / n + z * z / (4 * n * n)).squareRoot() / shrink
        return ConfidenceInterval(lower: max(0, centre - halfWidth), upper: min(1, centre + halfWidth))
    }

    /// Percentile bootstrap interval of the mean: `replicates` resamples of the values with
    /// replacement, and the (1 - confidence)/2 and (1 + confidence)/2 quantiles (numpy's linear
    /// rule) of their means. NaN values are dropped first. Replicate r draws from
    /// SplitMix64(seed: SplitMix64.derive(seed, r)), so a seed gives the same interval everywhere:
    /// it is HeadBootstrap's for one head. nil when no value is defined, `replicates` < 1 or the
    /// confidence is outside (0, 1).
    public static func bootstrapMean(_ values: [Double], replicates: Int, seed: UInt64,
                                     confidence: Double = 0.95) -> ConfidenceInterval? {
        let defined = values.filter { !$0.isNaN }
        guard !defined.isEmpty, replicates > 0 else { return nil }
        return HeadBootstrap(scores: defined, prompts: defined.count, heads: 1, replicates: replicates, seed: seed,
                             topCount: 0, confidence: confidence).intervals[0]
    }

    /// The central `confidence` share of replicate statistics (NaN skipped): their
    /// (1 - confidence)/2 and (1 + confidence)/2 quantiles.
    static func percentileInterval(_ statistics: [Double], confidence: Double) -> ConfidenceInterval? {
        guard confidence > 0, confidence < 1 else { return nil }
        let bounds = Summary.quantiles(statistics, [(1 - confidence) / 2, (1 + confidence) / 2])
        guard let lower = bounds[0], let upper = bounds[1] else { return nil }
        return ConfidenceInterval(lower: lower, upper: upper)
    }
}
