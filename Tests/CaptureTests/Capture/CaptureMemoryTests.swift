import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// The memory estimates that refuse captures a machine cannot hold, before anything is built.
final class CaptureMemoryTests: XCTestCase {
    private let tasks = URL(fileURLWithPath: CaptureTool.tasksDirectory)

    private func makePlan(_ configuration: CaptureConfiguration) throws -> (CapturePlan, ModelConfig) {
        let model = try LoadedModels.model(CaptureTool.tinyModel)
        return (try CapturePlan(configuration: configuration, tasksDirectory: tasks, model: model, shard: .whole), model.config)
    }

    func testBatchesPackConsecutivePromptsWithinTheBudgetAndALongerPromptAlone() {
        let batches = CaptureMemory.batches([5, 5, 5, 20, 3], budget: 10)
        XCTAssertEqual(batches.map(\.prompts), [2, 1, 1, 1])
        XCTAssertEqual(batches.map(\.tokens), [10, 5, 20, 3])
    }

    func testForwardPassesAreRefusedWhenTheLargestBatchDoesNotFit() throws {
        let configuration = CaptureConfiguration(tasks: ["antonym"], variants: [.clean], shots: [2], promptsPerSet: 8, seed: 1,
                                                 probeSequences: 2, probeLength: 20)
        let (plan, config) = try makePlan(configuration)
        XCTAssertNoThrow(try CaptureMemory.checkForwardPasses(plan: plan, config: config, batchTokens: 2048, available: 1 << 40))
        // tiny-llama3: 3 layers, 4 heads of 24, d_model 64, d_ff 112, vocabulary 503. One prompt
        // alone needs its row (z, resid, attention, logits) and its tokens' activations: kilobytes.
        XCTAssertThrowsError(try CaptureMemory.checkForwardPasses(plan: plan, config: config, batchTokens: 2048, available: 10_000)) { error in
            XCTAssertTrue("\(error)".contains("lower --batch-tokens"), "\(error)")
        }
        // Probes alone in their batches: only a shorter probe helps.
        let probesOnly = CaptureConfiguration(tasks: [], variants: [.clean], shots: [2], promptsPerSet: 8, seed: 1,
                                              probeSequences: 2, probeLength: 100)
        let (probePlan, _) = try makePlan(probesOnly)
        let probeBytes = 4 * 201 * (4 * 64 + (4 + 2 * 2) * 24 + 4 * 24 + 3 * config.intermediateSize + 1) + 4 * (3 + 1) * 4 * 201 * 201
        XCTAssertNoThrow(try CaptureMemory.checkForwardPasses(plan: probePlan, config: config, batchTokens: 1, available: probeBytes))
        XCTAssertThrowsError(try CaptureMemory.checkForwardPasses(plan: probePlan, config: config, batchTokens: 1, available: probeBytes - 1)) { error in
            XCTAssertTrue("\(error)".contains("lower --probe-length"), "\(error)")
        }
    }

    func testAPlanLargerThanTheMemoryIsRefusedBeforeItIsBuilt() throws {
        let antonym = try TaskCatalog(directory: tasks).load("antonym")
        let configuration = CaptureConfiguration(tasks: ["antonym"], variants: [.clean, .zeroShot], shots: [8], promptsPerSet: 1000, seed: 1)
        XCTAssertNoThrow(try CaptureMemory.checkPlan(configuration: configuration, tasks: [antonym], shard: .whole, available: 1 << 30))
        XCTAssertThrowsError(try CaptureMemory.checkPlan(configuration: configuration, tasks: [antonym], shard: .whole, available: 1 << 18)) { error in
            XCTAssertTrue("\(error)".contains("lower --n"), "\(error)")
        }
    }
}
