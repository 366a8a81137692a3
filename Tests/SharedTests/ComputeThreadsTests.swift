import Foundation
import Shared
import XCTest

/// ComputeThreads.forEach on CKernels' pool (docs/methods.md §22.5): every iteration runs once,
/// whoever calls and however the loops follow one another.
final class ComputeThreadsTests: XCTestCase {
    private var savedThreads = ComputeThreads.count
    override func setUp() { savedThreads = ComputeThreads.count }
    override func tearDown() { ComputeThreads.set(savedThreads) }

    /// Counts of how often each iteration ran, one slot per iteration (disjoint memory).
    private static func runCounts(_ iterations: Int) -> [Int] {
        var counts = [Int](repeating: 0, count: iterations)
        counts.withUnsafeMutableBufferPointer { slots in
            let base = slots.baseAddress!
            ComputeThreads.forEach(iterations) { base[$0] += 1 }
        }
        return counts
    }

    func testEveryIterationRunsOnceInLoopAfterLoop() {
        for threads in [2, 3, 4] {
            ComputeThreads.set(threads)
            // Short loops back to back (the workers spin between them), then one after the
            // workers have gone to sleep.
            for round in 0..<20000 {
                let iterations = [2, 3, 7, 64][round % 4]
                XCTAssertEqual(Self.runCounts(iterations), [Int](repeating: 1, count: iterations), "\(threads) threads")
            }
            Thread.sleep(forTimeInterval: 0.01)
            XCTAssertEqual(Self.runCounts(1000), [Int](repeating: 1, count: 1000))
        }
    }

    func testTheLoopRunsOnSeveralThreads() {
        ComputeThreads.set(2)
        // Each iteration waits until another thread has joined, or gives up after 5 s: with
        // one thread the loop takes 10 s and the count stays 1.
        let lock = NSLock()
        var threads = Set<ObjectIdentifier>()
        let start = Date()
        ComputeThreads.forEach(2) { _ in
            lock.withLock { _ = threads.insert(ObjectIdentifier(Thread.current)) }
            while lock.withLock({ threads.count }) < 2 && Date().timeIntervalSince(start) < 5 {
                Thread.sleep(forTimeInterval: 0.001)
            }
        }
        XCTAssertEqual(threads.count, 2)
    }

    func testLoopsInsideLoopsAndFromOtherThreadsRunEveryIterationOnce() {
        ComputeThreads.set(2)
        // Nested: each outer iteration runs an inner loop (serially, on its own thread).
        var inner = [Int](repeating: 0, count: 8 * 50)
        inner.withUnsafeMutableBufferPointer { slots in
            let base = slots.baseAddress!
            ComputeThreads.forEach(8) { outer in
                ComputeThreads.forEach(50) { base[outer * 50 + $0] += 1 }
            }
        }
        XCTAssertEqual(inner, [Int](repeating: 1, count: inner.count))

        // Two threads calling at once: one gets the pool, the other runs its loop itself.
        final class Failures: @unchecked Sendable {
            let lock = NSLock()
            var count = 0
        }
        let failures = Failures()
        let group = DispatchGroup()
        for _ in 0..<2 {
            DispatchQueue.global().async(group: group) {
                for _ in 0..<500 where Self.runCounts(33) != [Int](repeating: 1, count: 33) {
                    failures.lock.withLock { failures.count += 1 }
                }
            }
        }
        group.wait()
        XCTAssertEqual(failures.count, 0)
    }
}
