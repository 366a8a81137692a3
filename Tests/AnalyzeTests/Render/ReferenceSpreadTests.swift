import Analyze
import Foundation
import Shared
import TestSupport
import XCTest

/// The box of a reference spread uses numpy.percentile's default (linear) definition.
final class ReferenceSpreadTests: XCTestCase {
    func testSmallCasesByHand() {
        let spread = ReferenceSpread(values: [4, .nan, 1, 3, 2])
        XCTAssertEqual(spread.sorted, [1, 2, 3, 4])
        XCTAssertEqual(spread.percentile(50), 2.5)
        XCTAssertEqual(spread.percentile(0), 1)
        XCTAssertEqual(spread.percentile(100), 4)
        XCTAssertEqual(try XCTUnwrap(spread.percentile(5)), 1.15, accuracy: 1e-12)
        XCTAssertEqual(ReferenceSpread(values: [7]).percentile(95), 7)
        XCTAssertNil(ReferenceSpread(values: [.nan]).percentile(50))
    }

    func testPercentilesMatchNumpy() throws {
        guard let python = PythonStack.find(), PythonStack.run(python, ["-c", "import numpy"]).status == 0 else {
            throw XCTSkip("no Python with numpy (scripts/setup-python-tests, or set PYTHON=/path/to/python)")
        }
        var random = SplitMix64(seed: 12)
        let sets = [3, 20, 21, 100].map { count in (0..<count).map { _ in Double(random.nextSignedUnit()) } }
        let percentiles = [5.0, 50, 95]
        let literal = sets.map { "[" + $0.map { String(format: "%a", $0) }.map { "float.fromhex('\($0)')" }.joined(separator: ",") + "]" }
        let script = "import numpy as np\nfor s in [\(literal.joined(separator: ","))]:\n    print(' '.join(float(v).hex() for v in np.percentile(np.array(s), [5, 50, 95])))"
        let result = PythonStack.run(python, ["-c", script])
        XCTAssertEqual(result.status, 0, result.output)
        let lines = result.output.split(separator: "\n")
        XCTAssertEqual(lines.count, sets.count, result.output)
        for (values, line) in zip(sets, lines) {
            let expected = line.split(separator: " ").compactMap { Double(String($0)) }
            let actual = percentiles.compactMap { ReferenceSpread(values: values).percentile($0) }
            XCTAssertEqual(expected.count, 3, String(line))
            for (a, e) in zip(actual, expected) { XCTAssertEqual(a, e, accuracy: 1e-15, "n=\(values.count)") }
        }
    }
}
