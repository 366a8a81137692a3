/// Correlation coefficients of two paired samples, as scipy.stats computes them (pearsonr,
/// spearmanr, kendalltau with variant 'b').
///
/// NaN: every coefficient first drops the pairs with a NaN on either side (an undefined score
/// says nothing about its pair). The result is nil when the coefficient is undefined: the samples
/// differ in length, fewer than 2 pairs remain, or one side is constant.
public enum Correlation {
    /// Pearson's r. Deviations are taken from the means first (two passes), so a large common
    /// offset costs no precision.
    public static func pearson(_ x: [Double], _ y: [Double]) -> Double? {
        guard let (x, y) = definedPairs(x, y) else { return nil }
        return pearsonOfDefined(x, y)
    }

    /// Spearman's rho: Pearson's r of the average ranks (ties share the mean of their ranks).
    public static func spearman(_ x: [Double], _ y: [Double]) -> Double? {
        guard let (x, y) = definedPairs(x, y) else { return nil }
        return pearsonOfDefined(Ranking.ranks(x), Ranking.ranks(y))
    }

    /// The pairs without a NaN on either side; nil when the lengths differ or fewer than 2 remain.
    static func definedPairs(_ x: [Double], _ y: [Double]) -> ([Double], [Double])? {
        guard x.count == y.count else { return nil }
        var keptX: [Double] = [], keptY: [Double] = []
        keptX.reserveCapacity(x.count)
        keptY.reserveCapacity(y.count)
        for i in x.indices where !x[i].isNaN && !y[i].isNaN {
            keptX.append(x[i])
            keptY.append(y[i])
        }
        return keptX.count >= 2 ? (keptX, keptY) : nil
    }

    /// Whether every value equals the first: constancy is tested exactly, since a mean computed
    /// from equal values can differ from them in the last bit and leave tiny non-zero deviations.
    static func isConstant(_ values: [Double]) -> Bool {
        values.allSatisfy { $0 == values[0] }
    }

    private static func pearsonOfDefined(_ x: [Double], _ y: [Double]) -> Double? {
        guard !isConstant(x), !isConstant(y) else { return nil }
        let n = Double(x.count)
        let meanX = x.reduce(0, +) / n, meanY = y.reduce(0, +) / n
        var sxx = 0.0, syy = 0.0, sxy = 0.0
        for i in x.indices {
            let dx = x[i] - meanX, dy = y[i] - meanY
            sxx += dx * dx
            syy += dy * dy
            sxy += dx * dy
        }
        let r = sxy / (sxx.squareRoot() * syy.squareRoot())
        guard r.isFinite else { return nil }   // infinite inputs
        return min(1, max(-1, r))
    }
}
