import CKernels
import Foundation
import XCTest

/// CKernels' vectorised exp, softmax, SiLU, GELU and rotary embedding against Double
/// math (or the scalar formula), for both compiled variants of exp (the AVX2 + FMA one, when the
/// CPU has it, and the baseline one).
final class VectorKernelTests: XCTestCase {
    /// Distance in units in the last place between two finite positive floats.
    private func ulps(_ a: Float, _ b: Float) -> Int {
        abs(Int(Int32(bitPattern: a.bitPattern)) - Int(Int32(bitPattern: b.bitPattern)))
    }

    func testExpIsWithinTwoUlpOfTheCorrectlyRoundedValueOverItsWholeNormalRange() {
        // Every 97th float of [-87.33, 88.72] (about 2 million values), both ends included.
        let lowest: Float = -87.3365, highest: Float = 88.7228
        var inputs: [Float] = []
        var x = lowest
        while x < highest {
            inputs.append(x)
            x = Float(bitPattern: x < 0 ? x.bitPattern - 97 : x.bitPattern + 97)
            if x < 0 && x > -1e-30 { x = 0 }
        }
        inputs += [highest, 0, -0.0, .leastNonzeroMagnitude, 1, -1]
        for (name, variant) in [("dispatched", icl_exp), ("baseline", icl_exp_baseline)] as [(String, (UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int) -> Void)] {
            var outputs = [Float](repeating: 0, count: inputs.count)
            variant(inputs, &outputs, inputs.count)
            var worst = 0, worstInput: Float = 0
            for (input, output) in zip(inputs, outputs) {
                let distance = ulps(output, Float(Foundation.exp(Double(input))))
                if distance > worst { (worst, worstInput) = (distance, input) }
            }
            XCTAssertLessThanOrEqual(worst, 2, "\(name): \(worst) ulp at \(worstInput)")
        }
    }

    func testExpEdgesAndTails() {
        let inputs: [Float] = [-.infinity, -100, -87.34, .infinity, 88.73, .nan, 3, 2, 1, 0.5, 0.25, 0.125, 0.0625]
        for variant in [icl_exp, icl_exp_baseline] as [(UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int) -> Void] {
            // Every tail length of a vector of 8 gives the same values as the full call.
            for count in 1...inputs.count {
                var outputs = [Float](repeating: -1, count: count)
                variant(inputs, &outputs, count)
                XCTAssertEqual(Array(outputs[0..<min(count, 3)]), Array([0, 0, 0][0..<min(count, 3)]),
                               "below ln(FLT_MIN) exp flushes to 0")
                if count > 3 { XCTAssertEqual(outputs[3], .infinity) }
                if count > 4 { XCTAssertEqual(outputs[4], .infinity, "above ln(FLT_MAX) exp overflows") }
                if count > 5 { XCTAssertTrue(outputs[5].isNaN) }
                for i in 6..<max(6, count) {
                    XCTAssertLessThanOrEqual(ulps(outputs[i], Float(Foundation.exp(Double(inputs[i])))), 2)
                }
            }
        }
    }

    func testSoftmaxRowNormalisesTheVisibleEntriesAndZeroesTheRest() {
        for (start, end, width) in [(0, 1, 1), (0, 13, 13), (2, 11, 13), (5, 22, 40), (0, 8, 8), (7, 8, 9)] {
            let scores = (0..<width).map { Float(sin(Double($0) * 1.7) * 9) }
            var row = scores
            icl_softmax_row(&row, start, end, width)
            let visible = scores[start..<end].map(Double.init)
            let maximum = visible.max()!
            let sum = visible.reduce(0) { $0 + Foundation.exp($1 - maximum) }
            for j in 0..<width {
                let expected = (start..<end).contains(j) ? Foundation.exp(Double(scores[j]) - maximum) / sum : 0
                XCTAssertEqual(Double(row[j]), expected, accuracy: 1e-6 * max(expected, 1e-30) + 1e-9,
                               "[\(start), \(end)) of \(width), entry \(j)")
            }
        }
    }

    /// The rotary kernel against torch's formula written out in scalar Swift (which forms no
    /// fused multiply-add), bit for bit: every half from 1 to 19 (vector bodies and tails),
    /// partial rotary (values beyond 2 * half untouched) and a row stride wider than the heads.
    func testRotaryMatchesTheScalarFormulaBitForBit() {
        for half in 1...19 {
            for (headDim, heads, count) in [(2 * half, 3, 4), (2 * half + 5, 2, 3)] {
                let stride = heads * headDim + 7
                let rows = (0..<count * stride).map { Float(cos(Double($0) * 0.61) * 2) }
                let cosines = (0..<count * half).map { Float(cos(Double($0) * 0.13)) }
                let sines = (0..<count * half).map { Float(sin(Double($0) * 0.13)) }
                var expected = rows
                for t in 0..<count {
                    for h in 0..<heads {
                        let base = t * stride + h * headDim
                        for i in 0..<half {
                            let a = rows[base + i], b = rows[base + i + half]
                            let c = cosines[t * half + i], s = sines[t * half + i]
                            let left = a * c, right = b * s, upper = b * c, lower = a * s
                            expected[base + i] = left - right
                            expected[base + i + half] = upper + lower
                        }
                    }
                }
                var rotated = rows
                icl_rotary(&rotated, stride, count, heads, headDim, half, cosines, sines)
                XCTAssertEqual(rotated.map(\.bitPattern), expected.map(\.bitPattern),
                               "half \(half), head size \(headDim)")
            }
        }
    }

    func testSiLUAndSigmoidFollowTheirDefinitions() {
        let gate = (0..<37).map { Float($0 - 18) * 0.9 }, up = (0..<37).map { Float(1 + $0 % 5) * 0.3 }
        var act = [Float](repeating: 0, count: 37), sigmoid = [Float](repeating: 0, count: 37)
        icl_silu_mul(gate, up, &act, 37)
        icl_sigmoid(gate, &sigmoid, 37)
        for i in 0..<37 {
            let s = 1 / (1 + Foundation.exp(-Double(gate[i])))
            XCTAssertEqual(Double(sigmoid[i]), s, accuracy: 1e-6 * s)
            let expected = Double(gate[i]) * s * Double(up[i])
            XCTAssertEqual(Double(act[i]), expected, accuracy: 1e-6 * abs(expected) + 1e-12)
        }
    }

    /// The tanh GELU, computed as x / (1 + exp(-2u)), against the same identity in Double over the
    /// range where it is neither x nor 0 in float and into both tails, and against the definition
    /// 0.5 x (1 + tanh(u)) where that form does not cancel in Double (below -3, 1 + tanh(u)
    /// loses its digits: at -10 it is 0 in Double against the true 1.2e-38).
    func testGeluTanhFollowsItsDefinition() {
        let x = (0..<601).map { Float($0 - 300) * 0.1 } + [-1e-30, 1e-30, 0, 80, -80]
        var y = [Float](repeating: 0, count: x.count), act = y
        let up = x.indices.map { Float(1 + $0 % 3) * 0.5 }
        icl_gelu_tanh(x, &y, x.count)
        icl_gelu_tanh_mul(x, up, &act, x.count)
        for i in x.indices {
            let v = Double(x[i]), u = (2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v)
            let expected = v / (1 + Foundation.exp(-2 * u))
            if v > -3 {
                XCTAssertEqual(0.5 * v * (1 + Foundation.tanh(u)), expected, accuracy: 1e-12 * abs(expected) + 1e-300)
            }
            // u itself is rounded in float: exp(-2u) inherits a relative error of |2u| float ulps.
            let relative = 1e-6 + abs(2 * u) * Double(Float.ulpOfOne)
            XCTAssertEqual(Double(y[i]), expected, accuracy: relative * abs(expected) + 1e-37, "x = \(x[i])")
            XCTAssertEqual(Double(act[i]), expected * Double(up[i]), accuracy: relative * abs(expected * Double(up[i])) + 1e-37,
                           "x = \(x[i])")
        }
        var inPlace = x
        icl_gelu_tanh(inPlace, &inPlace, inPlace.count)
        XCTAssertEqual(inPlace, y)
    }

    /// The reverse of the tanh GELU against its derivative in Double,
    /// d/dx [x s(2u)] = s + 2 x s (1 - s) u', with s the logistic function, and the forward value
    /// of icl_gelu_tanh_mul_backward's dup bit for bit.
    func testGeluTanhDerivativeFollowsItsDefinition() {
        let x = (0..<601).map { Float($0 - 300) * 0.1 } + [0, 80, -80]
        let dy = x.indices.map { Float(1 + $0 % 4) * 0.25 }, up = x.indices.map { Float(2 - $0 % 3) * 0.5 }
        var dx = [Float](repeating: 0, count: x.count), dgate = dx, dup = dx, forward = dx
        icl_gelu_tanh_backward(x, dy, &dx, x.count)
        icl_gelu_tanh_mul_backward(x, up, dy, &dgate, &dup, x.count)
        icl_gelu_tanh(x, &forward, x.count)
        let c = (2 / Double.pi).squareRoot()
        for i in x.indices {
            let v = Double(x[i]), u = c * (v + 0.044715 * v * v * v)
            let s = 1 / (1 + Foundation.exp(-2 * u)), oneMinusS = 1 / (1 + Foundation.exp(2 * u))
            let derivative = s + 2 * v * s * oneMinusS * c * (1 + 3 * 0.044715 * v * v)
            // As for the value: u is rounded in float, and s(1 - s) carries it twice. Below x = -10,
            // exp(-2u) overflows and the derivative (at most 1e-36 there) is 0.
            let relative = 2e-6 + 3 * abs(2 * u) * Double(Float.ulpOfOne)
            XCTAssertEqual(Double(dx[i]), Double(dy[i]) * derivative, accuracy: relative * abs(Double(dy[i]) * derivative) + 1e-36,
                           "x = \(x[i])")
            XCTAssertEqual(Double(dgate[i]), Double(dy[i]) * Double(up[i]) * derivative,
                           accuracy: relative * abs(Double(dy[i]) * Double(up[i]) * derivative) + 1e-36, "x = \(x[i])")
            XCTAssertEqual(dup[i], dy[i] * forward[i], "x = \(x[i])")
        }
    }
}
