/// Location summaries of a sample. NaN entries (undefined scores) are skipped, as numpy's
/// nanmean and nanquantile do; the result is nil when no value is defined.
public enum Summary {
    public static func mean(_ values: [Double]) -> Double? {
        var sum = 0.0, count = 0
        for value in values where !value.isNaN {
            sum += value
            count += 1
        }
        return count > 0 ? sum / Double(count) : nil
    }

    /// The q-quantile, q in 0...1, by numpy's default ('linear') rule: the value at the virtual
    /// index q * (n - 1) of the sorted sample, interpolated between its neighbours. nil when q is
    /// outside 0...1 or no value is defined.
    public static func quantile(_ values: [Double], _ q: Double) -> Double? {
        quantiles(values, [q])[0]
    }

    /// `quantile` for each of `qs` (in any order), sharing one pass of selection rather than a sort.
    public static func quantiles(_ values: [Double], _ qs: [Double]) -> [Double?] {
        var defined = values.filter { !$0.isNaN }
        guard !defined.isEmpty else { return qs.map { _ in nil } }
        var result = [Double?](repeating: nil, count: qs.count)
        let n = defined.count
        // Ascending q, so each selection continues right of the previous one.
        let order = qs.indices.filter { qs[$0] >= 0 && qs[$0] <= 1 }.sorted { qs[$0] < qs[$1] }
        defined.withUnsafeMutableBufferPointer { sample in
            var placed = 0   // sample[..<placed] holds the `placed` smallest values
            for index in order {
                let virtualIndex = qs[index] * Double(n - 1)
                let below = min(Int(virtualIndex.rounded(.down)), n - 1)
                if below >= placed {
                    OrderStatistics.select(below, in: sample, from: placed)
                    placed = below + 1
                }
                let a = sample[below]
                let b = below + 1 < n ? OrderStatistics.minimum(of: sample, in: (below + 1)..<n) : a
                result[index] = interpolate(a, b, virtualIndex - Double(below))
            }
        }
        return result
    }

    /// numpy's lerp: from the nearer end, so t = 1 gives b exactly.
    private static func interpolate(_ a: Double, _ b: Double, _ t: Double) -> Double {
        t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t
    }
}
