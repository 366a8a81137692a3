import Analyze
import XCTest

final class OverlapTests: XCTestCase {
    func testJaccardIsIntersectionOverUnion() {
        XCTAssertEqual(Overlap.jaccard([1, 2, 3, 4], [3, 4, 5]), 2.0 / 5.0)
        XCTAssertEqual(Overlap.jaccard([1, 2], [1, 2]), 1)
        XCTAssertEqual(Overlap.jaccard([1, 2], [3]), 0)
        XCTAssertEqual(Overlap.jaccard([], [3]), 0)
        XCTAssertEqual(Overlap.jaccard([], []), 1)
    }
}
