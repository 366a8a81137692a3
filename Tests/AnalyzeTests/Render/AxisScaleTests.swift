@testable import Analyze
import Foundation
import Shared
import XCTest

/// Nice ticks: round steps that cover the data, readable distinct labels, sane edge cases.
final class AxisScaleTests: XCTestCase {
    func testTicksCoverTheDataWithRoundSteps() {
        var random = SplitMix64(seed: 11)
        for _ in 0..<2_000 {
            let magnitude = pow(10, Double(random.uniform(below: 16)) - 8)
            let a = Double(random.nextSignedUnit()) * magnitude, b = Double(random.nextSignedUnit()) * magnitude
            let scale = AxisScale(covering: [a, b])
            XCTAssertLessThanOrEqual(scale.lower, min(a, b))
            XCTAssertGreaterThanOrEqual(scale.upper, max(a, b))
            XCTAssert((3...13).contains(scale.ticks.count), "\(a) \(b): \(scale.ticks)")
            let mantissa = scale.step / pow(10, log10(scale.step).rounded(.down))
            XCTAssert([1, 2, 5, 10].contains { abs(mantissa - $0) < 1e-9 }, "step \(scale.step)")
            XCTAssertEqual(Set(scale.labels).count, scale.labels.count, "\(scale.labels)")
        }
    }

    func testLabelsAreShortAndExact() {
        XCTAssertEqual(AxisScale(covering: [0, 1]).labels, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        XCTAssertEqual(AxisScale(covering: [-0.3, 0.25]).labels, ["-0.3", "-0.2", "-0.1", "0.0", "0.1", "0.2", "0.3"])
        XCTAssertEqual(AxisScale(covering: [0, 29], integerTicks: true).labels, ["0", "5", "10", "15", "20", "25", "30"])
        XCTAssertEqual(AxisScale(covering: [0, 3], integerTicks: true).step, 1)
        XCTAssertEqual(AxisScale(covering: [0, 2e7]).labels.last, "2e+07")
    }

    /// With a margin the axis ends are the padded data extent, not ticks, and every tick
    /// lies inside.
    func testMarginPadsTheDataAndKeepsTicksInside() {
        let scale = AxisScale(covering: [0.1, 0.9], margin: 0.05)
        XCTAssertEqual(scale.lower, 0.06, accuracy: 1e-12)
        XCTAssertEqual(scale.upper, 0.94, accuracy: 1e-12)
        XCTAssertEqual(scale.labels, ["0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9"])
        let layers = AxisScale(covering: [0, 29], integerTicks: true, margin: 0)
        XCTAssertEqual(layers.lower, 0)
        XCTAssertEqual(layers.upper, 29)
        XCTAssertEqual(layers.labels, ["0", "5", "10", "15", "20", "25"])
    }

    func testDegenerateInputsStillGiveAnAxis() {
        XCTAssertEqual(AxisScale(covering: []).ticks.first, 0)
        XCTAssertEqual(AxisScale(covering: []).ticks.last, 1)
        let constant = AxisScale(covering: [5, 5])
        XCTAssertLessThan(constant.lower, 5)
        XCTAssertGreaterThan(constant.upper, 5)
        XCTAssertEqual(AxisScale(covering: [.nan, .infinity, 2, 3]).lower, 2)
        XCTAssertEqual(AxisScale(covering: [2, 3], includeZero: true).lower, 0)
        let placed = AxisScale(covering: [0, 10]).placed(from: 100, to: 0)
        XCTAssertEqual(placed.position(0), 100)
        XCTAssertEqual(placed.position(5), 50)
    }
}
