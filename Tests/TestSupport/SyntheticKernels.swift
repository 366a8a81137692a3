/// The fake forward pass's arithmetic, in a fixed order that never depends on how many prompts
/// are computed together (BLAS rounds differently with the batch size), so a prompt's rows
/// are the same bits whichever shard or chunk it falls in.
enum SyntheticKernels {
    /// sum_i a[i] * b[i]: eight lanes over blocks of eight, the lanes then added in order,
    /// then the tail.
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count n: Int) -> Float {
        var lanes = SIMD8<Float>()
        var i = 0
        while i + 8 <= n {
            let x = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
            let y = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
            lanes += x * y
            i += 8
        }
        var sum: Float = 0
        for lane in 0..<8 { sum += lanes[lane] }
        while i < n {
            sum += a[i] * b[i]
            i += 1
        }
        return sum
    }

    /// out[0..<d] = sum_e x[e] * w[e, 0..<d] for w: [count, d], e ascending. Sixteen columns
    /// at a time stay in registers while e runs, so w is read once and out written once.
    static func rowTimesMatrix(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, count: Int, d: Int,
                               into out: UnsafeMutablePointer<Float>) {
        var j = 0
        while j + 16 <= d {
            var low = SIMD8<Float>(), high = SIMD8<Float>()
            for e in 0..<count {
                let scale = SIMD8<Float>(repeating: x[e]), row = UnsafeRawPointer(w + e * d + j)
                low += scale * row.loadUnaligned(as: SIMD8<Float>.self)
                high += scale * row.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
            }
            UnsafeMutableRawPointer(out + j).storeBytes(of: low, as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(out + j + 8).storeBytes(of: high, as: SIMD8<Float>.self)
            j += 16
        }
        while j < d {
            var sum: Float = 0
            for e in 0..<count { sum += x[e] * w[e * d + j] }
            out[j] = sum
            j += 1
        }
    }
}
