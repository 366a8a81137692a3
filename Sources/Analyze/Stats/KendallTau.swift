extension Correlation {
    /// Kendall's tau-b, with ties as scipy.stats.kendalltau(variant='b'):
    /// (concordant - discordant) / sqrt((pairs - xTies) * (pairs - yTies)), where xTies and yTies
    /// count the pairs tied in x and in y (a pair tied in both counts in each).
    ///
    /// Knight's O(n log n) algorithm: order the pairs by x, then y; the discordant pairs are
    /// then the strict inversions of the y sequence, counted while merge-sorting it.
    /// NaN pairs are dropped and the result is nil when undefined, as for the other coefficients.
    public static func kendallTauB(_ x: [Double], _ y: [Double]) -> Double? {
        guard let (x, y) = definedPairs(x, y) else { return nil }
        let n = x.count
        let order = x.indices.sorted { x[$0] < x[$1] || (x[$0] == x[$1] && y[$0] < y[$1]) }
        let xs = order.map { x[$0] }
        var ys = order.map { y[$0] }
        let xTies = tiedPairs(n) { xs[$0] == xs[$0 - 1] }
        let jointTies = tiedPairs(n) { xs[$0] == xs[$0 - 1] && ys[$0] == ys[$0 - 1] }
        let discordant = sortCountingInversions(&ys)
        let yTies = tiedPairs(n) { ys[$0] == ys[$0 - 1] }
        let pairs = n * (n - 1) / 2
        guard xTies < pairs, yTies < pairs else { return nil }
        let concordantMinusDiscordant = pairs - xTies - yTies + jointTies - 2 * discordant
        let tau = Double(concordantMinusDiscordant)
            / Double(pairs - xTies).squareRoot() / Double(pairs - yTies).squareRoot()
        return min(1, max(-1, tau))
    }

    /// The pairs inside runs of equal neighbours, t(t-1)/2 per run of length t, in a sequence of
    /// `count` elements where `equalsPrevious(i)` says element i equals element i-1.
    private static func tiedPairs(_ count: Int, _ equalsPrevious: (Int) -> Bool) -> Int {
        var pairs = 0, run = 1
        for i in 1..<max(count, 1) {
            if equalsPrevious(i) {
                pairs += run
                run += 1
            } else {
                run = 1
            }
        }
        return pairs
    }

    /// Sorts `values` ascending by a bottom-up merge sort and returns the number of index pairs
    /// i < j with values[i] > values[j]; equal values are not inversions.
    private static func sortCountingInversions(_ values: inout [Double]) -> Int {
        let n = values.count
        var source = values
        var target = [Double](repeating: 0, count: n)
        var inversions = 0
        var width = 1
        while width < n {
            source.withUnsafeBufferPointer { from in
                target.withUnsafeMutableBufferPointer { to in
                    var start = 0
                    while start < n {
                        let middle = min(start + width, n), end = min(start + 2 * width, n)
                        var i = start, j = middle, k = start
                        while i < middle && j < end {
                            if from[j] < from[i] {
                                to[k] = from[j]
                                inversions += middle - i   // from[j] is below every left value still waiting
                                j += 1
                            } else {
                                to[k] = from[i]
                                i += 1
                            }
                            k += 1
                        }
                        while i < middle { to[k] = from[i]; i += 1; k += 1 }
                        while j < end { to[k] = from[j]; j += 1; k += 1 }
                        start = end
                    }
                }
            }
            swap(&source, &target)
            width *= 2
        }
        values = source
        return inversions
    }
}
