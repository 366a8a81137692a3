import Foundation
import Shared
import XCTest

/// VectorMath's lane sums, which the engine's norms and the analyzer's recomputed norm scales share.
final class VectorMathTests: XCTestCase {
    /// The sums against Double sums, for every length from 0 to 80 (each mix of the 8-float
    /// lanes and the tail) and SmolLM2's and Gemma 3's widths.
    func testRowSumsAgreeWithDoubleSumsForEveryTailLength() {
        for count in Array(0...80) + [576, 640] {
            let x = (0..<count).map { Float(sin(Double($0) * 0.37) * 3 + 0.5) }
            let values = x.map(Double.init)
            let sum = values.reduce(0, +), squares = values.reduce(0) { $0 + $1 * $1 }
            let mean = count == 0 ? 0 : Float(sum / Double(count))
            let centred = values.reduce(0) { $0 + ($1 - Double(mean)) * ($1 - Double(mean)) }
            let magnitude = values.reduce(0) { $0 + abs($1) }
            XCTAssertEqual(Double(VectorMath.sum(x, count: count)), sum, accuracy: 1e-6 * magnitude + 1e-30, "sum of \(count)")
            XCTAssertEqual(Double(VectorMath.sumOfSquares(x, count: count)), squares, accuracy: 1e-6 * squares + 1e-30,
                           "sum of squares of \(count)")
            XCTAssertEqual(Double(VectorMath.centredSumOfSquares(x, mean: mean, count: count)), centred,
                           accuracy: 1e-6 * squares + 1e-30, "centred sum of squares of \(count)")
        }
        let three: [Float] = [1, 2, 3]
        XCTAssertEqual(VectorMath.centredSumOfSquares(three, mean: 2, count: 3), 2)
        XCTAssertEqual(VectorMath.sumOfSquares(three, count: 3), 14)
    }
}
