import Shared

/// How certain a per-head score and its top-k selection are, by bootstrapping over prompts.
///
/// Each of B replicates resamples the prompts with replacement and takes every head's mean score
/// over the resample. Per head this gives the percentile interval of those means and the share
/// of replicates in which the head is among the `topCount` best (how stable its selection is).
///
/// NaN scores (undefined for that prompt and head) are skipped in every mean; a head with no
/// defined value in a replicate has no mean there: it is skipped for its interval and counts as
/// outside that replicate's top set.
///
/// Replicate r draws from SplitMix64(seed: SplitMix64.derive(seed, r)). A replicate's sums are
/// one matrix product, weights [replicate, prompt] (how often each prompt was drawn) times the
/// scores [prompt, head], run in fixed blocks of replicates on ComputeThreads (OpenBLAS on one
/// thread inside each), so the result depends on the seed only, not on the thread count.
/// Memory: the replicate means, B × heads Doubles (8 MB for 1000 × 1024).
public struct HeadBootstrap: Sendable {
    public let prompts: Int
    public let heads: Int
    public let replicates: Int
    public let topCount: Int
    public let confidence: Double
    /// means: [head], over all prompts where the head's score is defined; NaN where none is.
    public let means: [Double]
    /// intervals: [head], percentile interval of the replicate means; nil where no replicate
    /// defines the head's mean (or there are no replicates).
    public let intervals: [ConfidenceInterval?]
    /// topFrequency: [head], share of the replicates whose top-`topCount` set holds the head
    /// (replicate means, descending; equal means by lower head index).
    public let topFrequency: [Double]

    /// Replicates handled by one task of the thread pool: the rows of one matrix product.
    private static let replicatesPerTask = 16

    /// scores: [prompt, head], row-major, count prompts × heads (a programming error otherwise).
    /// `topCount` is clamped to 0...heads.
    public init(scores: [Double], prompts: Int, heads: Int, replicates: Int, seed: UInt64,
                topCount: Int, confidence: Double = 0.95) {
        precondition(prompts >= 0 && heads >= 0 && scores.count == prompts * heads,
                     "HeadBootstrap: \(scores.count) scores for \(prompts) prompts × \(heads) heads")
        let replicates = max(replicates, 0)
        let k = min(max(topCount, 0), heads)
        self.prompts = prompts
        self.heads = heads
        self.replicates = replicates
        self.topCount = k
        self.confidence = confidence

        // values: [prompt, head] with NaN as 0; defined: [prompt, head], 1 where the score is a
        // number, nil when every score is (each head's count is then the prompt count).
        let values = scores.map { $0.isNaN ? 0 : $0 }
        let defined = scores.contains(where: \.isNaN) ? scores.map { $0.isNaN ? 0.0 : 1.0 } : nil
        means = Self.means(values, defined, prompts: prompts, heads: heads)

        // replicateMeans: [replicate, head]; topSets: [replicate, rank], -1 past the defined heads.
        var replicateMeans = [Double](repeating: .nan, count: replicates * heads)
        var topSets = [Int](repeating: -1, count: replicates * k)
        if prompts > 0 && heads > 0 {
            let tasks = (replicates + Self.replicatesPerTask - 1) / Self.replicatesPerTask
            replicateMeans.withUnsafeMutableBufferPointer { meansOut in
                topSets.withUnsafeMutableBufferPointer { topOut in
                    values.withUnsafeBufferPointer { values in
                        ComputeThreads.forEachCallingBLAS(tasks) { task in
                            let first = task * Self.replicatesPerTask
                            let range = first..<min(first + Self.replicatesPerTask, replicates)
                            Self.runReplicates(range, values: values, defined: defined, prompts: prompts, heads: heads,
                                               seed: seed, topCount: k, meansOut: meansOut, topOut: topOut)
                        }
                    }
                }
            }
        }

        var inTop = [Int](repeating: 0, count: heads)
        for head in topSets where head >= 0 { inTop[head] += 1 }
        topFrequency = inTop.map { replicates > 0 ? Double($0) / Double(replicates) : 0 }
        intervals = Self.percentileIntervals(replicateMeans, replicates: replicates, heads: heads,
                                             confidence: confidence)
    }

    /// Full-sample mean per head. values: [prompt, head]; defined: [prompt, head] or nil when
    /// every score is defined; returns [head].
    private static func means(_ values: [Double], _ defined: [Double]?, prompts: Int, heads: Int) -> [Double] {
        var sums = [Double](repeating: 0, count: heads)
        var counts = [Double](repeating: defined == nil ? Double(prompts) : 0, count: heads)
        for p in 0..<prompts {
            for h in 0..<heads {
                sums[h] += values[p * heads + h]
                if let defined { counts[h] += defined[p * heads + h] }
            }
        }
        return zip(sums, counts).map { $1 > 0 ? $0 / $1 : .nan }
    }

    /// Replicates `range`: each one's means into meansOut [replicate, head] and its top set into
    /// topOut [replicate, rank]. values, defined: [prompt, head]; defined is nil when every score
    /// is a number.
    private static func runReplicates(_ range: Range<Int>, values: UnsafeBufferPointer<Double>, defined: [Double]?,
                                      prompts: Int, heads: Int, seed: UInt64, topCount: Int,
                                      meansOut: UnsafeMutableBufferPointer<Double>,
                                      topOut: UnsafeMutableBufferPointer<Int>) {
        let count = range.count
        var draw = [Int](repeating: 0, count: prompts)
        var weights = [Double](repeating: 0, count: count * prompts)     // [replicate in range, prompt]
        for (slot, r) in range.enumerated() {
            Resampling.drawMultiplicities(&draw, seed: seed, replicate: r)
            for p in 0..<prompts { weights[slot * prompts + p] = Double(draw[p]) }
        }
        // sums: [replicate in range, head], computed in place of the means.
        let sums = UnsafeMutableBufferPointer(rebasing: meansOut[(range.lowerBound * heads)..<(range.upperBound * heads)])
        BLAS.matmul(weights, lda: prompts, values.baseAddress!, ldb: heads, sums.baseAddress!, ldc: heads,
                    m: count, n: heads, k: prompts)
        if let defined {
            var counts = [Double](repeating: 0, count: count * heads)     // [replicate in range, head]
            BLAS.matmul(weights, lda: prompts, defined, ldb: heads, &counts, ldc: heads, m: count, n: heads, k: prompts)
            for i in sums.indices { sums[i] = counts[i] > 0 ? sums[i] / counts[i] : .nan }
        } else {
            for i in sums.indices { sums[i] /= Double(prompts) }
        }
        guard topCount > 0 else { return }
        var top: [Int] = []
        top.reserveCapacity(topCount)
        for r in range {
            Ranking.selectTop(UnsafeBufferPointer(rebasing: meansOut[(r * heads)..<((r + 1) * heads)]), count: topCount, into: &top)
            for (rank, head) in top.enumerated() { topOut[r * topCount + rank] = head }
        }
    }

    /// Per head, the percentile interval of its defined replicate means (NaN skipped).
    /// replicateMeans: [replicate, head]; returns [head].
    private static func percentileIntervals(_ replicateMeans: [Double], replicates: Int, heads: Int,
                                            confidence: Double) -> [ConfidenceInterval?] {
        var intervals = [ConfidenceInterval?](repeating: nil, count: heads)
        intervals.withUnsafeMutableBufferPointer { out in
            ComputeThreads.forEach(heads) { h in
                let column = (0..<replicates).map { replicateMeans[$0 * heads + h] }   // [replicate]
                out[h] = Interval.percentileInterval(column, confidence: confidence)
            }
        }
        return intervals
    }
}
