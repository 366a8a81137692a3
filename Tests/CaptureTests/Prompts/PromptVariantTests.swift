import Capture
import Shared
import XCTest

/// What each variant may and may not change, against the clean set of the same seed.
final class PromptVariantTests: XCTestCase {
    private func sets(_ task: TaskFile, shots: Int = 6, count: Int = 60, seed: UInt64 = 5)
        throws -> [PromptVariant: PromptSet] {
        let builder = PromptBuilder(task: task)
        var sets: [PromptVariant: PromptSet] = [:]
        for variant in PromptVariant.allCases where variant != .abstractLabels || task.kind == .classification {
            sets[variant] = try builder.build(PromptSetSpec(task: task.name, variant: variant, shots: shots,
                                                            count: count, seed: seed))
        }
        return sets
    }

    private func tasks() throws -> [TaskFile] {
        [try PromptTestTasks.shipped("sentiment"), try PromptTestTasks.shipped("country_continent"),
         try PromptTestTasks.shipped("antonym")]
    }

    func testEveryVariantAsksTheSameQueriesAsClean() throws {
        for task in try tasks() {
            let all = try sets(task)
            let clean = try XCTUnwrap(all[.clean])
            for (variant, set) in all {
                XCTAssertEqual(set.prompts.map(\.queryPairIndex), clean.prompts.map(\.queryPairIndex), "\(variant)")
                if variant != .zeroShot {
                    XCTAssertEqual(set.prompts.map { $0.demonstrations.map(\.input) },
                                   clean.prompts.map { $0.demonstrations.map(\.input) }, "\(variant)")
                }
            }
        }
    }

    func testShuffledLabelsPermuteTheDemonstrationOutputs() throws {
        for task in try tasks() {
            let all = try sets(task)
            let shuffled = try XCTUnwrap(all[.shuffledLabels]), clean = try XCTUnwrap(all[.clean])
            for (s, c) in zip(shuffled.prompts, clean.prompts) {
                XCTAssertEqual(s.demonstrations.map(\.output).sorted(), c.demonstrations.map(\.output).sorted())
                if Set(c.demonstrations.map(\.output)).count > 1 {
                    XCTAssertNotEqual(s.demonstrations.map(\.output), c.demonstrations.map(\.output))
                }
                XCTAssertEqual(s.demonstrations.map(\.originalOutput), c.demonstrations.map(\.output))
                XCTAssertEqual(s.goldOutput, c.goldOutput)
                XCTAssertEqual(s.queryInput, c.queryInput)
                XCTAssertEqual(Array(s.text.utf8)[s.queryInputSpan.start...], Array(c.text.utf8)[c.queryInputSpan.start...])
            }
        }
    }

    func testRandomLabelsComeFromTheLabelsOrTheDemonstrationPool() throws {
        for task in try tasks() {
            let random = try XCTUnwrap(try sets(task)[.randomLabels])
            let builder = PromptBuilder(task: task)
            let allowed = task.kind == .classification
                ? Set(task.labels) : Set(builder.split.demonstrationPairs.map { task.pairs[$0].output })
            let shown = random.prompts.flatMap { $0.demonstrations.map(\.output) }
            XCTAssertTrue(allowed.isSuperset(of: shown), task.name)
            XCTAssertTrue(random.prompts.contains { p in p.demonstrations.contains { $0.output != $0.originalOutput } })
        }
    }

    func testAbstractLabelsMapLabelsConsistentlyInDemosAndGold() throws {
        for task in try tasks() where task.kind == .classification {
            let abstract = try XCTUnwrap(try sets(task)[.abstractLabels])
            XCTAssertEqual(abstract.originalLabels, task.labels)
            XCTAssertEqual(Set(abstract.labels), Set(["A", "B", "C", "D"].prefix(task.labels.count)))
            let mapping = Dictionary(uniqueKeysWithValues: zip(abstract.originalLabels, abstract.labels))
            for prompt in abstract.prompts {
                for demo in prompt.demonstrations {
                    XCTAssertEqual(demo.output, mapping[demo.originalOutput])
                }
                let gold = task.pairs[prompt.queryPairIndex].output
                XCTAssertEqual(prompt.goldAnswer, mapping[gold])
                XCTAssertEqual(prompt.goldOutput, " " + mapping[gold]!)
                XCTAssertEqual(prompt.goldLabelIndex, task.labelIndex(of: gold))
                XCTAssertFalse(task.labels.contains { prompt.text.contains(" \($0)\n") })
            }
        }
    }

    func testAbstractNumbersAreAvailable() throws {
        let task = try PromptTestTasks.shipped("part_of_speech")
        let set = try PromptBuilder(task: task).build(PromptSetSpec(task: task.name, variant: .abstractLabels, shots: 3,
                                                                    count: 2, seed: 1, abstractSymbols: .numbers))
        XCTAssertEqual(set.labels.sorted(), ["0", "1", "2", "3"])
    }

    func testZeroShotHasOnlyTheQuery() throws {
        for task in try tasks() {
            let all = try sets(task)
            let zero = try XCTUnwrap(all[.zeroShot]), clean = try XCTUnwrap(all[.clean])
            XCTAssertEqual(zero.spec.effectiveShots, 0)
            for (z, c) in zip(zero.prompts, clean.prompts) {
                XCTAssertTrue(z.demonstrations.isEmpty)
                XCTAssertEqual(z.queryInputSpan.start, task.template(named: task.defaultTemplate)!.inputAffixes.prefix.utf8.count)
                XCTAssertTrue(c.text.hasSuffix(z.text))
                XCTAssertEqual(z.goldOutput, c.goldOutput)
            }
        }
    }
}
