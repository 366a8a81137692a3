/// Dot products of short fp32 vectors in SIMD lanes. A scalar `sum += a[j] * b[j]` loop is
/// bound by the latency of its one dependent add (Swift keeps strict fp order); eight
/// independent lanes of 8 floats are not, and their pairwise sum rounds less.
public enum VectorMath {
    /// sum_j a[j] * b[j] over `count` floats.
    @inlinable
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var lanes = SIMD8<Float>()
        var j = 0
        let rawA = UnsafeRawPointer(a), rawB = UnsafeRawPointer(b)
        while j + 8 <= count {
            let x = rawA.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
            let y = rawB.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
            lanes += x * y
            j += 8
        }
        var total = lanes.sum()
        while j < count {
            total += a[j] * b[j]
            j += 1
        }
        return total
    }

    /// sum_j a[j]^2 over `count` floats.
    @inlinable
    public static func sumOfSquares(_ a: UnsafePointer<Float>, count: Int) -> Float {
        dot(a, a, count: count)
    }

    /// sum_j (a[j] - mean)^2 over `count` floats (LayerNorm's variance).
    @inlinable
    public static func centredSumOfSquares(_ a: UnsafePointer<Float>, mean: Float, count: Int) -> Float {
        var lanes = SIMD8<Float>()
        var j = 0
        let raw = UnsafeRawPointer(a), centre = SIMD8<Float>(repeating: mean)
        while j + 8 <= count {
            let x = raw.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self) - centre
            lanes += x * x
            j += 8
        }
        var total = lanes.sum()
        while j < count {
            total += (a[j] - mean) * (a[j] - mean)
            j += 1
        }
        return total
    }

    /// sum_j a[j] over `count` floats.
    @inlinable
    public static func sum(_ a: UnsafePointer<Float>, count: Int) -> Float {
        var lanes = SIMD8<Float>()
        var j = 0
        let raw = UnsafeRawPointer(a)
        while j + 8 <= count {
            lanes += raw.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
            j += 8
        }
        var total = lanes.sum()
        while j < count {
            total += a[j]
            j += 1
        }
        return total
    }
}
