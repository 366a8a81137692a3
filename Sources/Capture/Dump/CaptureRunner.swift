import Foundation
import Shared

/// What a capture run did, and where its time went.
public struct CaptureSummary: Sendable {
    public var prompts = 0
    public var tokens = 0
    /// Seconds in forward passes (hooks, logit statistics and label projections included; with
    /// --grads the reverse passes too) and in writing rows to the dump.
    public var forwardSeconds = 0.0
    public var writeSeconds = 0.0
}

/// Runs every prompt of a plan that is not done yet through the model, in packed batches of
/// consecutive prompts, and streams each batch's rows into the dump: memory stays bounded by
/// one batch whatever the number of prompts.
public struct CaptureRunner {
    public let model: LoadedModel
    public let plan: CapturePlan
    public let writer: DumpWriter
    public let configuration: CaptureConfiguration
    /// Most tokens packed into one forward pass.
    public var batchTokens = 2048

    public init(model: LoadedModel, plan: CapturePlan, writer: DumpWriter, configuration: CaptureConfiguration) {
        self.model = model
        self.plan = plan
        self.writer = writer
        self.configuration = configuration
    }

    public func run(done: [String: [Bool]], progress: ProgressReporter?) throws -> CaptureSummary {
        var summary = CaptureSummary()
        for set in plan.sets {
            let pending = batches(set.tokens, finished: done[set.name] ?? [])
            guard !pending.isEmpty else { continue }
            let projection = LabelProjection(weights: model.transformer.weights, config: model.config, labelIDs: set.labelIDs)
            for rows in pending {
                try capture(set, rows: rows, projection: projection, summary: &summary)
                progress?.advance(by: rows.count, tokens: rows.reduce(0) { $0 + set.tokens[$1].count }, label: set.name)
            }
        }
        for probe in plan.probes {
            for rows in batches(probe.tokens, finished: done[probe.name] ?? []) {
                try capture(probe, rows: rows, summary: &summary)
                progress?.advance(by: rows.count, tokens: rows.reduce(0) { $0 + probe.tokens[$1].count }, label: probe.name)
            }
        }
        progress?.finish()
        return summary
    }

    /// Runs of consecutive unfinished prompts, each within the token budget, so that every
    /// batch is one contiguous block of rows in the dump.
    private func batches(_ tokens: [[Int32]], finished: [Bool]) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var start: Int?, budget = 0
        for i in tokens.indices {
            let isDone = i < finished.count && finished[i]
            if let s = start, isDone || budget + tokens[i].count > batchTokens {
                result.append(s..<i)
                start = nil
            }
            if isDone { continue }
            if start == nil { start = i; budget = 0 }
            budget += tokens[i].count
        }
        if let s = start { result.append(s..<tokens.count) }
        return result
    }

    private func capture(_ set: PlannedSet, rows: Range<Int>, projection: LabelProjection,
                         summary: inout CaptureSummary) throws {
        let forwardStart = Date()
        let positions = rows.map { set.positions[$0] }
        let capture = ActivationCapture(config: model.config, positions: positions, maxTokens: set.maxTokens)
        let output: ForwardOutput
        var staged: CapturedRows
        if let metric = configuration.grads {
            // One forward pass feeds both the activation hooks and the reverse pass.
            let gradients = GradientCapture(config: model.config, positions: positions, hooks: capture.hooks)
            let prompts = rows.map { GradientPrompt(tokens: set.tokens[$0], target: set.metricTarget(row: $0)) }
            let pass = try model.transformer.gradients(of: metric, prompts: prompts, request: gradients.request,
                                                       hooks: capture.hooks, receive: gradients.receive)
            output = pass.forward
            staged = capture.rows
            gradients.store(into: &staged, values: pass.metricValues, defined: rows.map { set.goldTokens[$0] >= 0 })
        } else {
            output = try model.transformer.forward(rows.map { SequenceInput(tokens: set.tokens[$0]) },
                                                   logits: .last, hooks: capture.hooks)
            staged = capture.rows
        }
        let k = configuration.topK
        for (b, prompt) in rows.enumerated() {
            let logits = output.lastLogits(of: b)
            let logSumExp = LogitStatistics.logSumExp(logits)
            staged.labelLogits += set.labelIDs.map { logits[logits.startIndex + Int($0)] }
            let gold = set.goldTokens[prompt]
            staged.goldLogprob.append(gold >= 0 ? Float(Double(logits[logits.startIndex + Int(gold)]) - logSumExp) : .nan)
            let top = LogitStatistics.topIndices(logits, count: k)
            staged.argmax.append(Int32(top[0]))
            staged.topIDs += top.map(Int32.init)
            staged.topLogits += top.map { logits[logits.startIndex + $0] }
        }
        // From the fp32 rows, before any float16 rounding of the stored activations.
        staged.headLabelLogits = projection.headLogits(z: staged.z, scales: staged.finalNormScale,
                                                       outputScales: staged.attentionOutputScale)
        staged.residLabelLogits = projection.residLogits(resid: staged.resid, scales: staged.finalNormScale)
        let writeStart = Date()
        try writer.write(set: set, rows: rows, staged)
        summary.forwardSeconds += writeStart.timeIntervalSince(forwardStart)
        summary.writeSeconds += Date().timeIntervalSince(writeStart)
        summary.prompts += rows.count
        summary.tokens += rows.reduce(0) { $0 + set.tokens[$1].count }
    }

    private func capture(_ probe: PlannedProbe, rows: Range<Int>, summary: inout CaptureSummary) throws {
        let forwardStart = Date()
        let maxTokens = probe.tokens.map(\.count).max() ?? 0
        let capture = PatternCapture(config: model.config, prompts: rows.count, maxTokens: maxTokens)
        _ = try model.transformer.forward(rows.map { SequenceInput(tokens: probe.tokens[$0]) }, logits: .none,
                                          hooks: capture.hooks)
        let writeStart = Date()
        try writer.write(probe: probe, rows: rows, patterns: capture.patterns)
        summary.forwardSeconds += writeStart.timeIntervalSince(forwardStart)
        summary.writeSeconds += Date().timeIntervalSince(writeStart)
        summary.prompts += rows.count
        summary.tokens += rows.reduce(0) { $0 + probe.tokens[$1].count }
    }
}
