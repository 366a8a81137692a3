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
/// Replicate r draws from SplitMix64(seed: SplitMix64.derive(seed, r)) and the replicates are
/// split over ComputeThreads, so the result depends on the seed only, not on the thread count.
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

    /// Replicates handled by one task of the thread pool (with one set of scratch buffers).
    private static let replicatesPerTask = 8
    /// Heads summed at a time: 8 replicates x 256 sums and counts are 32 KiB, an L1 data cache.
    /// A multiple of 4, so that every head meets the same arithmetic as in one whole row.
    private static let headsPerBlock = 256

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

        // values: [prompt, head] with NaN as 0; defined: [prompt, head], 1 where the score is a number.
        let values = scores.map { $0.isNaN ? 0 : $0 }
        let defined = scores.map { $0.isNaN ? 0.0 : 1.0 }
        let anyUndefined = scores.contains(where: \.isNaN)
        means = Self.means(values, defined, prompts: prompts, heads: heads)

        // replicateMeans: [replicate, head]; topSets: [replicate, rank], -1 past the defined heads.
        var replicateMeans = [Double](repeating: .nan, count: replicates * heads)
        var topSets = [Int](repeating: -1, count: replicates * k)
        if prompts > 0 {
            let tasks = (replicates + Self.replicatesPerTask - 1) / Self.replicatesPerTask
            replicateMeans.withUnsafeMutableBufferPointer { meansOut in
                topSets.withUnsafeMutableBufferPointer { topOut in
                    values.withUnsafeBufferPointer { values in
                        defined.withUnsafeBufferPointer { defined in
                            ComputeThreads.forEach(tasks) { task in
                                let first = task * Self.replicatesPerTask
                                let range = first..<min(first + Self.replicatesPerTask, replicates)
                                Self.runReplicates(range, values: values, defined: anyUndefined ? defined : nil,
                                                   prompts: prompts, heads: heads, seed: seed, topCount: k,
                                                   meansOut: meansOut, topOut: topOut)
                            }
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

    /// Full-sample mean per head. values, defined: [prompt, head]; returns [head].
    private static func means(_ values: [Double], _ defined: [Double], prompts: Int, heads: Int) -> [Double] {
        var sums = [Double](repeating: 0, count: heads)
        var counts = [Double](repeating: 0, count: heads)
        for p in 0..<prompts {
            for h in 0..<heads {
                sums[h] += values[p * heads + h]
                counts[h] += defined[p * heads + h]
            }
        }
        return zip(sums, counts).map { $1 > 0 ? $0 / $1 : .nan }
    }

    /// Replicates `range`: each one's means into meansOut [replicate, head] and its top set into
    /// topOut [replicate, rank]. values, defined: [prompt, head]; defined is nil when every score
    /// is a number (each head's count is then the prompt count).
    ///
    /// The replicates of the range share each read of a prompt's row: the heads are taken in blocks
    /// whose sums for every replicate of the range stay in the L1 cache while the prompts stream
    /// past, so the scores are read once per range rather than once per replicate. Each sum still
    /// adds its prompts in order, one multiply and one add per term, as a replicate on its own would.
    private static func runReplicates(_ range: Range<Int>, values: UnsafeBufferPointer<Double>,
                                      defined: UnsafeBufferPointer<Double>?, prompts: Int, heads: Int,
                                      seed: UInt64, topCount: Int,
                                      meansOut: UnsafeMutableBufferPointer<Double>,
                                      topOut: UnsafeMutableBufferPointer<Int>) {
        let count = range.count
        var draw = [Int](repeating: 0, count: prompts)
        var multiplicity = [Double](repeating: 0, count: count * prompts)   // [replicate in range, prompt]
        for (slot, r) in range.enumerated() {
            Resampling.drawMultiplicities(&draw, seed: seed, replicate: r)
            for p in 0..<prompts { multiplicity[slot * prompts + p] = Double(draw[p]) }
        }
        var sums = [Double](repeating: 0, count: count * headsPerBlock)     // [replicate in range, head in block]
        var counts = sums
        var top: [Int] = []
        top.reserveCapacity(topCount)
        sums.withUnsafeMutableBufferPointer { sums in
            counts.withUnsafeMutableBufferPointer { counts in
                for blockStart in stride(from: 0, to: heads, by: headsPerBlock) {
                    let width = min(headsPerBlock, heads - blockStart)
                    for i in 0..<(count * headsPerBlock) { sums[i] = 0; counts[i] = 0 }
                    for p in 0..<prompts {
                        let row = (p * heads + blockStart)..<(p * heads + blockStart + width)
                        for slot in 0..<count {
                            let weight = multiplicity[slot * prompts + p]
                            guard weight > 0 else { continue }
                            let accumulator = slot * headsPerBlock..<(slot * headsPerBlock + width)
                            addScaled(weight, UnsafeBufferPointer(rebasing: values[row]),
                                      into: UnsafeMutableBufferPointer(rebasing: sums[accumulator]))
                            if let defined {
                                addScaled(weight, UnsafeBufferPointer(rebasing: defined[row]),
                                          into: UnsafeMutableBufferPointer(rebasing: counts[accumulator]))
                            }
                        }
                    }
                    for (slot, r) in range.enumerated() {
                        for h in 0..<width {
                            let n = defined == nil ? Double(prompts) : counts[slot * headsPerBlock + h]
                            meansOut[r * heads + blockStart + h] = n > 0 ? sums[slot * headsPerBlock + h] / n : .nan
                        }
                    }
                }
            }
        }
        guard topCount > 0 else { return }
        for r in range {
            Ranking.selectTop(UnsafeBufferPointer(rebasing: meansOut[(r * heads)..<((r + 1) * heads)]), count: topCount, into: &top)
            for (rank, head) in top.enumerated() { topOut[r * topCount + rank] = head }
        }
    }

    /// accumulator[i] += weight * row[i], four at a time: the compiler does not vectorize the
    /// plain loop (it cannot rule out that the two buffers overlap). Same operations per element.
    @inline(__always)
    private static func addScaled(_ weight: Double, _ row: UnsafeBufferPointer<Double>,
                                  into accumulator: UnsafeMutableBufferPointer<Double>) {
        guard let source = row.baseAddress, let target = accumulator.baseAddress else { return }
        let count = min(row.count, accumulator.count)
        let scale = SIMD4<Double>(repeating: weight)
        var i = 0
        while i + 4 <= count {
            let sum = UnsafeRawPointer(target + i).loadUnaligned(as: SIMD4<Double>.self)
                + scale * UnsafeRawPointer(source + i).loadUnaligned(as: SIMD4<Double>.self)
            UnsafeMutableRawPointer(target + i).storeBytes(of: sum, as: SIMD4<Double>.self)
            i += 4
        }
        while i < count {
            target[i] += weight * source[i]
            i += 1
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
