/// SplitMix64 (Steele, Lea & Flood 2014): a small seeded generator whose sequence is the same
/// on every platform and Swift version, unlike the standard library's. Prompt sampling, probe
/// sets and randomised tests use it so that a seed reproduces a result anywhere.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// next() % bound: uniform enough for test cases and sampling from small pools.
    public mutating func below(_ bound: Int) -> Int {
        Int(next() % UInt64(bound))
    }

    /// Uniform in [-1, 1) with 24 bits of resolution.
    public mutating func nextSignedUnit() -> Float {
        Float(next() >> 40) / Float(1 << 23) - 1
    }
}
