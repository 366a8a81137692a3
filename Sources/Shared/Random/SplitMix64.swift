/// SplitMix64 (Steele, Lea and Flood 2014; Vigna's reference constants): a small seeded
/// generator whose output depends only on its 64-bit state, so a seed gives the same prompts,
/// probes and randomised test cases on every machine and Swift version. Everything random goes through
/// the methods here, never through the standard library's `random(in:)` or `shuffle()`,
/// whose algorithms the standard library does not promise to keep.
public struct SplitMix64: RandomNumberGenerator, Sendable, Hashable {
    private static let gamma: UInt64 = 0x9E37_79B9_7F4A_7C15

    public private(set) var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= Self.gamma
        return Self.finalize(state)
    }

    /// A uniform integer in 0..<bound, without modulo bias: draw r until r >= 2^64 mod bound,
    /// then return r mod bound.
    public mutating func uniform(below bound: Int) -> Int {
        precondition(bound > 0, "uniform(below:) needs a positive bound")
        let b = UInt64(bound)
        let rejectBelow = (0 &- b) % b
        while true {
            let r = next()
            if r >= rejectBelow { return Int(r % b) }
        }
    }

    /// Fisher–Yates from the end: for i = n-1 down to 1, swap element i with element
    /// uniform(below: i + 1).
    public mutating func shuffle<Element>(_ array: inout [Element]) {
        var i = array.count - 1
        while i > 0 {
            array.swapAt(i, uniform(below: i + 1))
            i -= 1
        }
    }

    /// `count` distinct indices of 0..<population in draw order, by a partial Fisher–Yates
    /// from the front: for j in 0..<count, swap position j with j + uniform(below: population - j).
    /// The first m of a sample of n > m are the sample of m from the same state, so prompts with
    /// more shots extend those with fewer.
    public mutating func sample(_ count: Int, from population: Int) -> [Int] {
        precondition(count >= 0 && count <= population, "cannot sample \(count) of \(population)")
        var swapped: [Int: Int] = [:]   // positions moved so far; the rest hold their own index
        var result: [Int] = []
        result.reserveCapacity(count)
        for j in 0..<count {
            let k = j + uniform(below: population - j)
            let atK = swapped[k] ?? k
            swapped[k] = swapped[j] ?? j
            result.append(atK)
        }
        return result
    }

    /// Uniform in [-1, 1) with 24 bits of resolution (random weights in tests).
    public mutating func nextSignedUnit() -> Float {
        Float(next() >> 40) / Float(1 << 23) - 1
    }

    /// SplitMix64's output function applied to `z + gamma`: `SplitMix64(seed: s).next() == mix(s)`.
    public static func mix(_ z: UInt64) -> UInt64 {
        finalize(z &+ gamma)
    }

    /// A seed for one purpose, from a base seed and a path of integers (a stream number,
    /// a prompt index, ...): h = mix(seed), then h = mix(h XOR mix(c)) for each c of the path.
    public static func derive(_ seed: UInt64, _ path: UInt64...) -> UInt64 {
        path.reduce(mix(seed)) { h, c in mix(h ^ mix(c)) }
    }

    /// 64-bit FNV-1a of the UTF-8 bytes: a stable number for a name (Swift's `hashValue` is
    /// randomized per process).
    public static func fnv1a(_ text: String) -> UInt64 {
        text.utf8.reduce(0xCBF2_9CE4_8422_2325) { h, byte in (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
    }

    private static func finalize(_ state: UInt64) -> UInt64 {
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
