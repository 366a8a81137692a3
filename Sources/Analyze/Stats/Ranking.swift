/// Ranks and top-k selections of scores.
public enum Ranking {
    /// Average ranks, 1-based, as scipy.stats.rankdata(method='average', nan_policy='omit'):
    /// tied values share the mean of the ranks they span; a NaN entry gets rank NaN and is not
    /// counted in the ranks of the others.
    public static func ranks(_ x: [Double]) -> [Double] {
        var result = [Double](repeating: .nan, count: x.count)
        let order = x.indices.filter { !x[$0].isNaN }.sorted { x[$0] < x[$1] }
        var start = 0
        while start < order.count {
            var end = start + 1
            while end < order.count && x[order[end]] == x[order[start]] { end += 1 }
            let averageRank = Double(start + 1 + end) / 2   // mean of the ranks start+1 ... end
            for k in start..<end { result[order[k]] = averageRank }
            start = end
        }
        return result
    }

    /// The indices of the `count` best scores, best first: descending by score, equal scores by
    /// lower index. A NaN score (undefined) is never selected, so fewer than `count` come back
    /// when fewer are defined (docs/methods.md §3.5). `count` below 0 counts as 0.
    public static func topIndices(_ scores: [Double], count: Int) -> [Int] {
        guard count > 0 else { return [] }
        let order = scores.indices.filter { !scores[$0].isNaN }.sorted { precedes(scores[$0], $0, scores[$1], $1) }
        return Array(order.prefix(count))
    }

    /// How many of `total` items a top-`fraction` selection keeps: floor(fraction * total), at
    /// least 1 and at most `total` (0 when total is 0). The paper's top-3% rule keeps 30 of 1024
    /// heads. A product within rounding error of an integer counts as that integer, so 0.29 of
    /// 100 is 29 although 0.29 * 100 is 28.999999999999996 in floating point. NaN and fractions
    /// at or below 0 keep 1.
    public static func topCount(fraction: Double, of total: Int) -> Int {
        guard total > 0 else { return 0 }
        let product = fraction * Double(total)
        guard product.isFinite else { return product == .infinity ? total : 1 }
        let nearest = product.rounded()
        let kept = abs(product - nearest) <= 1e-9 * max(1, nearest) ? nearest : product.rounded(.down)
        if kept >= Double(total) { return total }
        return kept < 1 ? 1 : Int(kept)
    }

    /// Whether score `a` at index `i` comes before score `b` at index `j` in a descending
    /// ranking: the higher score first, equal scores by lower index (neither is NaN).
    static func precedes(_ a: Double, _ i: Int, _ b: Double, _ j: Int) -> Bool {
        a > b || (a == b && i < j)
    }

    /// The first `count` (at most) of the descending order of `scores`, skipping NaN, into `top`
    /// (best first), without sorting everything: one pass in index order keeping the best so far
    /// sorted. A later index never displaces an equal earlier score, which is the tie rule.
    /// O(n log count) comparisons plus the insertions; `count` is a few percent of n here.
    static func selectTop(_ scores: UnsafeBufferPointer<Double>, count: Int, into top: inout [Int]) {
        top.removeAll(keepingCapacity: true)
        guard count > 0 else { return }
        for i in scores.indices where !scores[i].isNaN {
            let score = scores[i]
            if top.count == count {
                guard score > scores[top[count - 1]] else { continue }
                top.removeLast()
            }
            var low = 0, high = top.count   // first position whose score is below `score`
            while low < high {
                let middle = (low + high) / 2
                if scores[top[middle]] >= score { low = middle + 1 } else { high = middle }
            }
            top.insert(i, at: low)
        }
    }
}
