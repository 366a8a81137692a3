import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// The number of compute threads (`--threads`) changes a dump only in the last bits of its
/// floats. The engine's own parallel loops write disjoint rows, but OpenBLAS (0.3.21 here)
/// does not sum every product in the same order when it splits it between threads: measured,
/// 7 to 21% of the outputs of the tiny model's [700, 64..224, 64..112] products differ between
/// 1 and 2 threads. So float rows must agree to the project's fp32 tolerance for BLAS order
/// (1e-5 of the row's largest magnitude, as for batched versus single prompts), and everything
/// else (token ids, top-k ids, argmax, spans, strings, the static datasets) bit for bit.
final class CaptureThreadCountTests: XCTestCase {
    static let tolerance = 1e-5

    func testOneAndTwoComputeThreadsGiveTheSameDump() throws {
        let scratch = try ScratchDirectory("threads")
        defer { scratch.remove() }
        // Batches of several hundred tokens, so that OpenBLAS does split the larger products.
        let configuration = CaptureConfiguration(
            tasks: ["antonym", "sentiment"], variants: [.clean, .shuffledLabels], shots: [4], promptsPerSet: 12, seed: 21,
            positions: .labels, probeSequences: 3, probeLength: 24)
        let previous = ComputeThreads.count
        defer { ComputeThreads.set(previous) }
        var dumps: [DumpSnapshot] = []
        for threads in [1, 2] {
            ComputeThreads.set(threads)
            XCTAssertEqual(BLAS.threads, threads)
            let path = scratch.path("threads-\(threads).h5")
            try TinyCapture.write(to: path, configuration: configuration)
            dumps.append(try DumpSnapshot(path: path))
        }
        let (one, two) = (dumps[0], dumps[1])
        XCTAssertEqual(Set(one.datasets.keys), Set(two.datasets.keys))
        var identical: [String] = [], tolerated: [String] = [], worst = 0.0
        for (path, values) in one.datasets.sorted(by: { $0.key < $1.key }) where !one.dimensionScales.contains(path) {
            let other = try two.dataset(path)
            XCTAssertEqual(other.shape, values.shape, path)
            XCTAssertEqual(other.type, values.type, path)
            if values.identical(to: other) {
                identical.append(path)
                continue
            }
            guard values.type == .float32 || values.type == .float16, other.numbers.count == values.numbers.count else {
                XCTFail("\(path) differs between 1 and 2 threads: \(firstDifference(values.numbers[...], other.numbers[...]))")
                continue
            }
            tolerated.append(path)
            for r in 0..<values.rowCount {
                let difference = relativeDifference(other.row(r), values.row(r))
                worst = max(worst, difference)
                XCTAssertLessThan(difference, Self.tolerance, "\(path) row \(r): \(firstDifference(values.row(r), other.row(r)))")
            }
        }
        for name in ["z", "resid", "attention", "label_logits", "head_label_logits", "resid_label_logits", "top_logits"] {
            XCTAssertTrue(one.datasets.keys.contains { $0.hasSuffix("/" + name) }, "no \(name) was compared")
        }
        XCTAssertNotNil(one["/probes/induction.r24/attention_pattern"])
        XCTAssertTrue(identical.contains { $0.hasSuffix("/top_ids") }, "top-k ids differ between thread counts")
        print("1 vs 2 compute threads: \(identical.count) datasets bit-identical, \(tolerated.count) within tolerance "
              + "(worst relative difference per row \(worst)): \(tolerated.map { $0.split(separator: "/").last! }.sorted().uniqued())")
    }
}

private extension Array where Element: Hashable {
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
