import Capture
import Shared
import XCTest

/// Determinism, the query/demonstration split and the byte spans of built prompts.
final class PromptBuilderTests: XCTestCase {
    private func build(_ task: TaskFile, _ variant: PromptVariant = .clean, shots: Int = 4, count: Int = 30,
                       seed: UInt64 = 1, template: String? = nil) throws -> PromptSet {
        try PromptBuilder(task: task).build(PromptSetSpec(task: task.name, variant: variant, shots: shots,
                                                          template: template, count: count, seed: seed))
    }

    func testSameSeedGivesIdenticalPromptsAndAnotherSeedDifferent() throws {
        let task = try PromptTestTasks.shipped("antonym")
        let first = try build(task, seed: 3)
        XCTAssertEqual(try build(task, seed: 3), first)
        let other = try build(task, seed: 4)
        XCTAssertNotEqual(other.prompts.map(\.text), first.prompts.map(\.text))
        XCTAssertNotEqual(other.prompts.map(\.queryPairIndex), first.prompts.map(\.queryPairIndex))
    }

    func testPromptsArePinnedAcrossPlatforms() throws {
        for pinned in pinnedCases {
            let set = pinned.open
                ? try build(try PromptTestTasks.open(), pinned.variant, shots: 3, count: 2, seed: 2024)
                : try build(try PromptTestTasks.classification(), pinned.variant, shots: 4, count: 2, seed: 99,
                            template: "arrow")
            XCTAssertEqual(set.prompts.map(\.text), pinned.texts, "\(pinned.variant)")
            XCTAssertEqual(set.prompts.map(\.goldOutput), pinned.gold, "\(pinned.variant)")
        }
    }

    func testDemonstrationsNeverComeFromTheQueryPool() throws {
        for task in [try PromptTestTasks.shipped("sentiment"), try PromptTestTasks.shipped("country_capital")] {
            let builder = PromptBuilder(task: task)
            XCTAssertTrue(Set(builder.split.queryPairs).isDisjoint(with: builder.split.demonstrationPairs))
            XCTAssertEqual((builder.split.queryPairs + builder.split.demonstrationPairs).sorted(), Array(task.pairs.indices))
            let set = try build(task, shots: 8, count: 300)
            let queryInputs = Set(builder.split.queryPairs.map { task.pairs[$0].input })
            for prompt in set.prompts {
                XCTAssertTrue(queryInputs.contains(prompt.queryInput))
                XCTAssertTrue(Set(builder.split.demonstrationPairs).isSuperset(of: prompt.demonstrations.map(\.pairIndex)))
                XCTAssertFalse(prompt.demonstrations.contains { queryInputs.contains($0.input) })
                XCTAssertEqual(Set(prompt.demonstrations.map(\.pairIndex)).count, 8)
            }
        }
    }

    func testClassificationSplitKeepsEveryLabelInBothPools() throws {
        let task = try PromptTestTasks.shipped("part_of_speech")
        let split = PromptBuilder(task: task).split
        for pool in [split.queryPairs, split.demonstrationPairs] {
            XCTAssertEqual(Set(pool.map { task.pairs[$0].output }), Set(task.labels))
        }
    }

    func testQueriesAreDistinctUpToThePoolSizeThenRepeat() throws {
        let task = try PromptTestTasks.classification(count: 20, labels: ["yes", "no"])
        let set = try build(task, shots: 2, count: 25)
        XCTAssertEqual(set.queryPoolSize, 10)
        let queries = set.prompts.map(\.queryPairIndex)
        XCTAssertEqual(Set(queries.prefix(10)).count, 10)
        XCTAssertEqual(Set(queries.dropFirst(10).prefix(10)).count, 10)
        XCTAssertEqual(set.prompts.map(\.index), Array(0..<25))
    }

    func testSpansSliceTheTextToTheInputsAndOutputs() throws {
        for task in [try PromptTestTasks.open(), try PromptTestTasks.shipped("country_demonym")] {
            for template in ["qa", "arrow"] {
                for prompt in try build(task, .randomLabels, shots: 5, count: 20, template: template).prompts {
                    for demo in prompt.demonstrations {
                        XCTAssertEqual(demo.inputSpan.slice(of: prompt.text), demo.input)
                        XCTAssertEqual(demo.outputSpan.slice(of: prompt.text), demo.output)
                    }
                    XCTAssertEqual(prompt.queryInputSpan.slice(of: prompt.text), prompt.queryInput)
                    XCTAssertEqual(prompt.answerOffset, prompt.text.utf8.count)
                    XCTAssertEqual(prompt.goldOutput, " " + prompt.goldAnswer)
                }
            }
        }
    }

    func testPromptTextFollowsTheTemplate() throws {
        let task = try PromptTestTasks.shipped("sentiment")
        let set = try build(task, shots: 2, count: 1)
        let prompt = set.prompts[0]
        let expected = prompt.demonstrations.map { "\($0.input) Sentiment: \($0.output)\n" }.joined()
            + "\(prompt.queryInput) Sentiment:"
        XCTAssertEqual(prompt.text, expected)
        XCTAssertEqual(set.labelOutputs, [" positive", " negative"])
        XCTAssertEqual(prompt.goldLabelIndex.map { set.labels[$0] }, task.pairs[prompt.queryPairIndex].output)
    }

    func testMoreShotsExtendTheSameDemonstrations() throws {
        let task = try PromptTestTasks.shipped("present_past")
        let few = try build(task, shots: 3, count: 10)
        let many = try build(task, shots: 6, count: 10)
        for (a, b) in zip(few.prompts, many.prompts) {
            XCTAssertEqual(a.queryPairIndex, b.queryPairIndex)
            XCTAssertEqual(a.demonstrations.map(\.pairIndex), Array(b.demonstrations.map(\.pairIndex).prefix(3)))
        }
    }

    func testBadSpecsAreInputErrors() throws {
        let task = try PromptTestTasks.classification(count: 10)
        XCTAssertThrowsError(try build(task, shots: 6)) { XCTAssertTrue($0 is InputError) }
        XCTAssertThrowsError(try build(task, template: "nope")) { XCTAssertTrue($0 is InputError) }
        XCTAssertThrowsError(try build(try PromptTestTasks.open(), .abstractLabels)) { XCTAssertTrue($0 is InputError) }
        XCTAssertThrowsError(try PromptBuilder(task: task).build(PromptSetSpec(task: "other", shots: 1, count: 1, seed: 0)))
    }
}


private struct PinnedCase {
    let open: Bool
    let variant: PromptVariant
    let texts: [String]
    let gold: [String]
}

/// Printed by reference/make_prompt_pins.py, an independent Python implementation of the
/// derivation in tasks/README.md, for the toy tasks of PromptTestTasks.
private let pinnedCases = [
    PinnedCase(open: true, variant: .clean,
               texts: ["Q: in35\nA: out35\n\nQ: é24ß\nA: out24\n\nQ: in2\nA: out2\n\nQ: in11\nA:",
                       "Q: é33ß\nA: out33\n\nQ: in2\nA: out2\n\nQ: in14\nA: out14\n\nQ: é18ß\nA:"],
               gold: [" out11", " out18"]),
    PinnedCase(open: true, variant: .shuffledLabels,
               texts: ["Q: in35\nA: out2\n\nQ: é24ß\nA: out35\n\nQ: in2\nA: out24\n\nQ: in11\nA:",
                       "Q: é33ß\nA: out33\n\nQ: in2\nA: out14\n\nQ: in14\nA: out2\n\nQ: é18ß\nA:"],
               gold: [" out11", " out18"]),
    PinnedCase(open: true, variant: .randomLabels,
               texts: ["Q: in35\nA: out2\n\nQ: é24ß\nA: out23\n\nQ: in2\nA: out35\n\nQ: in11\nA:",
                       "Q: é33ß\nA: out36\n\nQ: in2\nA: out2\n\nQ: in14\nA: out28\n\nQ: é18ß\nA:"],
               gold: [" out11", " out18"]),
    PinnedCase(open: false, variant: .shuffledLabels,
               texts: ["w24 -> maybe\nw11 -> yes\nw33 -> maybe\nw2 -> yes\nw3 ->",
                       "w33 -> no\nw24 -> yes\nw37 -> yes\nw6 -> yes\nw14 ->"],
               gold: [" yes", " maybe"]),
    PinnedCase(open: false, variant: .randomLabels,
               texts: ["w24 -> yes\nw11 -> maybe\nw33 -> no\nw2 -> yes\nw3 ->",
                       "w33 -> maybe\nw24 -> no\nw37 -> yes\nw6 -> maybe\nw14 ->"],
               gold: [" yes", " maybe"]),
    PinnedCase(open: false, variant: .abstractLabels,
               texts: ["w24 -> B\nw11 -> A\nw33 -> B\nw2 -> A\nw3 ->",
                       "w33 -> B\nw24 -> B\nw37 -> C\nw6 -> B\nw14 ->"],
               gold: [" B", " A"]),
]
