import Capture
import Shared
import XCTest

/// Sharding prompt sets, and the repeated-random-token induction probe.
final class ShardAndInductionProbeTests: XCTestCase {
    func testShardsPartitionEveryPromptSet() throws {
        let task = try PromptTestTasks.shipped("synonym")
        let set = try PromptBuilder(task: task).build(PromptSetSpec(task: task.name, shots: 3, count: 23, seed: 8))
        let shards = try (0..<4).map { try Shard(parsing: "\($0)/4") }
        let parts = shards.map { set.sharded($0).prompts }
        XCTAssertEqual(parts.flatMap { $0.map(\.index) }.sorted(), Array(0..<23))
        XCTAssertEqual(parts.map(\.count), [6, 6, 6, 5])
        for (i, part) in parts.enumerated() {
            XCTAssertTrue(part.allSatisfy { $0.index % 4 == i })
            XCTAssertTrue(part.allSatisfy { set.prompts[$0.index] == $0 })
        }
        XCTAssertEqual(set.sharded(.whole), set)
    }

    func testShardSyntaxIsChecked() {
        for bad in ["4/4", "-1/2", "1", "a/b", "1/0", "1/2/3"] {
            XCTAssertThrowsError(try Shard(parsing: bad), bad) { XCTAssertTrue($0 is InputError) }
        }
        XCTAssertEqual(try Shard(parsing: "2/5").description, "2/5")
    }

    func testInductionSequencesRepeatExactlyAndAvoidSpecialTokens() throws {
        let special: Set<Int32> = Set(0..<17).union([200, 201, 999])
        let probe = InductionProbe(vocabularySize: 1000, sequenceCount: 12, seed: 4)
        let sequences = try probe.sequences { special.contains($0) }
        XCTAssertEqual(sequences.count, 12)
        for sequence in sequences {
            XCTAssertEqual(sequence.count, 100)
            XCTAssertEqual(Array(sequence[..<50]), Array(sequence[50...]))
            XCTAssertEqual(Set(sequence[..<50]).count, 50)
            XCTAssertTrue(sequence.allSatisfy { $0 >= 0 && $0 < 1000 && !special.contains($0) })
        }
        XCTAssertEqual(Set(sequences).count, 12)
        XCTAssertEqual(try probe.sequences { special.contains($0) }, sequences)
        let reseeded = InductionProbe(vocabularySize: 1000, sequenceCount: 12, seed: 5)
        XCTAssertNotEqual(try reseeded.sequences { special.contains($0) }, sequences)
    }

    func testInductionSequencesArePinned() throws {
        // Printed by reference/make_prompt_pins.py, an independent Python implementation of tasks/README.md.
        let probe = InductionProbe(vocabularySize: 100, sequenceCount: 2, repeatLength: 5, seed: 1)
        XCTAssertEqual(try probe.sequences { $0 < 3 },
                       [[61, 11, 31, 47, 33, 61, 11, 31, 47, 33], [10, 84, 41, 40, 93, 10, 84, 41, 40, 93]])
    }

    func testInductionProbeRefusesTooFewOrdinaryTokens() throws {
        let probe = InductionProbe(vocabularySize: 60, sequenceCount: 1, repeatLength: 50, seed: 0)
        XCTAssertThrowsError(try probe.sequences { $0 < 20 }) { XCTAssertTrue($0 is InputError) }
        XCTAssertEqual(try probe.sequences { $0 < 10 }.first?.count, 100)
        XCTAssertThrowsError(try InductionProbe(vocabularySize: 0, sequenceCount: 1, seed: 0).sequences { _ in false })
    }
}
