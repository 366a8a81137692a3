import Foundation

/// The outcome of comparing two float arrays element by element.
public struct ArrayComparison: CustomStringConvertible {
    public let count: Int
    public let maxAbsoluteDifference: Float
    public let maxRelativeDifference: Float
    public let worstIndex: Int
    /// A few (actual, expected) pairs from the start, for the failure message.
    public let samples: [(Float, Float)]

    public var description: String {
        let pairs = samples.map { String(format: "(%.6g, %.6g)", $0.0, $0.1) }.joined(separator: " ")
        return "n=\(count) max|diff|=\(maxAbsoluteDifference) maxrel=\(maxRelativeDifference) at \(worstIndex); first pairs \(pairs)"
    }
}

/// Compares `actual` with `expected`. The relative difference of an element is
/// |a - e| / max(|e|, floor): `floor` keeps near-zero elements from dominating.
public func compare(_ actual: [Float], _ expected: [Float], relativeFloor: Float = 1e-2) -> ArrayComparison {
    precondition(actual.count == expected.count, "compare: \(actual.count) vs \(expected.count) elements")
    var maxAbs: Float = 0, maxRel: Float = 0, worst = 0
    for i in 0..<actual.count {
        let d = abs(actual[i] - expected[i])
        let r = d / max(abs(expected[i]), relativeFloor)
        if d.isNaN || d > maxAbs { maxAbs = d.isNaN ? .infinity : d; worst = i }
        if r > maxRel || r.isNaN { maxRel = r.isNaN ? .infinity : r }
    }
    let samples = (0..<min(4, actual.count)).map { (actual[$0], expected[$0]) }
    return ArrayComparison(count: actual.count, maxAbsoluteDifference: maxAbs,
                           maxRelativeDifference: maxRel, worstIndex: worst, samples: samples)
}
