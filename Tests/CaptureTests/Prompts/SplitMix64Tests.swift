import Capture
import XCTest
import Shared

/// The generator behind every prompt: pinned to its published outputs so prompts do not
/// change across machines or Swift versions. Every pinned value is printed by
/// reference/make_prompt_pins.py, an independent Python implementation of tasks/README.md.
/// (Named with its module: the engine tests have a SplitMix64 of their own.)
final class SplitMix64Tests: XCTestCase {
    func testMatchesTheReferenceImplementation() {
        // Outputs of Vigna's splitmix64.c seeded with 1234567 (also Rosetta Code's test vector).
        var rng = SplitMix64(seed: 1_234_567)
        XCTAssertEqual((0..<5).map { _ in rng.next() },
                       [6_457_827_717_110_365_317, 3_203_168_211_198_807_973, 9_817_491_932_198_370_423,
                        4_593_380_528_125_082_431, 16_408_922_859_458_223_821])
        XCTAssertEqual(SplitMix64.mix(0), 0xE220_A839_7B1D_CDAF)
    }

    func testDerivedSeedsArePinnedAndDependOnEveryComponent() {
        XCTAssertEqual(SplitMix64.derive(42), SplitMix64.mix(42))
        XCTAssertEqual(SplitMix64.derive(42, 3, 0), SplitMix64.mix(SplitMix64.mix(SplitMix64.mix(42) ^ SplitMix64.mix(3)) ^ SplitMix64.mix(0)))
        let seeds = [SplitMix64.derive(1, 3, 0), SplitMix64.derive(1, 3, 1), SplitMix64.derive(1, 0, 3),
                     SplitMix64.derive(2, 3, 0), SplitMix64.derive(1, 3)]
        XCTAssertEqual(Set(seeds).count, seeds.count)
        XCTAssertEqual(SplitMix64.fnv1a(""), 0xCBF2_9CE4_8422_2325)
        XCTAssertEqual(SplitMix64.fnv1a("a"), 0xAF63_DC4C_8601_EC8C)
    }

    func testUniformStaysInRangeAndCoversIt() {
        var rng = SplitMix64(seed: 9)
        var seen = Set<Int>()
        for _ in 0..<2000 {
            let value = rng.uniform(below: 7)
            XCTAssertTrue((0..<7).contains(value))
            seen.insert(value)
        }
        XCTAssertEqual(seen.count, 7)
        XCTAssertEqual(rng.uniform(below: 1), 0)
    }

    func testShuffleIsAPermutationPinnedBySeed() {
        var rng = SplitMix64(seed: 5)
        var values = Array(0..<10)
        rng.shuffle(&values)
        XCTAssertEqual(values.sorted(), Array(0..<10))
        XCTAssertEqual(values, [3, 6, 0, 4, 5, 1, 2, 9, 7, 8])  // reference/make_prompt_pins.py
    }

    func testSampleIsDistinctAndLongerSamplesExtendShorterOnes() {
        var short = SplitMix64(seed: 11)
        var long = SplitMix64(seed: 11)
        let five = short.sample(5, from: 30)
        let twelve = long.sample(12, from: 30)
        XCTAssertEqual(twelve, [3, 11, 23, 29, 28, 12, 18, 17, 14, 13, 8, 22])  // reference/make_prompt_pins.py
        XCTAssertEqual(Array(twelve.prefix(5)), five)
        XCTAssertEqual(Set(twelve).count, 12)
        XCTAssertTrue(twelve.allSatisfy { (0..<30).contains($0) })
        var all = SplitMix64(seed: 3)
        XCTAssertEqual(all.sample(30, from: 30).sorted(), Array(0..<30))
    }
}
