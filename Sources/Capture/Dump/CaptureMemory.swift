import Foundation
import Shared

// Legend: B = prompts of a batch, N = their tokens, C = captured positions, L = layers,
// H = heads, E = head_dim, D = d_model, F = d_ff, V = vocabulary, T = the set's longest prompt.

/// The memory a capture needs besides the model's weights, estimated before it is allocated,
/// so that options a machine cannot hold fail with one line naming the option instead of a
/// failed allocation (or hours of swapping).
public enum CaptureMemory {
    /// Bytes the plan keeps per byte of estimated prompt text: the text and its spans, token
    /// ids and special masks. Measured with SmolLM2: 50,000 8-shot sentiment prompts add 23 MB,
    /// 1.6 bytes per estimated byte; 4 leaves room for the tokenizer's byte offsets and for a
    /// set built whole before it is sharded.
    static let planBytesPerTextByte = 4

    /// Bytes that can be allocated now: MemAvailable of /proc/meminfo, or the physical memory.
    public static var available: Int {
        if let meminfo = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
           let line = meminfo.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
           let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") {
            return kilobytes * 1024
        }
        return Int(clamping: ProcessInfo.processInfo.physicalMemory)
    }

    /// Refuses a configuration whose prompt plan (every prompt of every set, tokenized, held
    /// until the capture ends) would not fit in the available memory. Prompt text is
    /// estimated from each task's mean pair length: (shots + 1) pairs and their template.
    public static func checkPlan(configuration c: CaptureConfiguration, tasks: [TaskFile], shard: Shard,
                                 available: Int = available) throws {
        var bytes = 0
        let prompts = (c.promptsPerSet + shard.count - 1) / shard.count
        for task in tasks {
            let meanPair = task.pairs.reduce(0) { $0 + $1.input.utf8.count + $1.output.utf8.count } / max(task.pairs.count, 1)
            let templateBytes = 16   // "Q: ", "\nA:", separators
            for variant in c.variants where variant != .abstractLabels || task.kind == .classification {
                for shots in Set(variant == .zeroShot ? [0] : c.shots) {
                    let text = (shots + 1) * (meanPair + templateBytes)
                    bytes += max(c.templates.count, 1) * prompts * text * planBytesPerTextByte
                }
            }
        }
        guard bytes > available else { return }
        throw InputError(file: nil, "the prompt plan (\(c.tasks.count) tasks x \(c.variants.count) variants x \(c.shots.count) shot counts x \(prompts) prompts) needs about \(gigabytes(bytes)) of memory and \(gigabytes(available)) is available: lower --n, or split the capture with --shard or by task")
    }

    /// Refuses a plan whose largest forward pass (packed batches of at most `batchTokens`
    /// tokens, as the capture runs them) would not fit in the available memory with what it
    /// captures.
    public static func checkForwardPasses(plan: CapturePlan, config m: ModelConfig, batchTokens: Int,
                                          available: Int = available) throws {
        let l = m.layerCount, h = m.headCount, e = m.headDim, d = m.hiddenSize
        // The engine's activations: residual, normed, attention output and MLP output [N, D],
        // q/k/v [N, (H + 2 KV) E], z [N, H E], gate/up [N, 2F] and the activation [N, F].
        let perToken = 4 * (4 * d + (h + 2 * m.kvHeadCount) * e + h * e + 3 * m.intermediateSize + 1)
        var largest = (bytes: 0, what: "", advice: "")
        for set in plan.sets {
            let c = set.positionCount, t = set.maxTokens
            // Captured rows (z, resid, attention, label projections) and the last position's logits.
            let perPrompt = 4 * (c * l * h * e + c * (l + 1) * d + l * h * t
                                 + c * (l * h + l + 1) * set.labelIDs.count + m.vocabularySize)
            for batch in batches(set.tokens.map(\.count), budget: batchTokens) {
                let bytes = perToken * batch.tokens + perPrompt * batch.prompts
                if bytes > largest.bytes {
                    largest = (bytes, "a batch of \(batch.prompts) prompts of set \(set.name) (\(batch.tokens) tokens)",
                               batch.prompts > 1 ? "lower --batch-tokens" : "use fewer --shots")
                }
            }
        }
        for probe in plan.probes {
            // Every layer's full patterns [B, L, H, T, T], and one layer's while it is computed.
            for batch in batches(probe.tokens.map(\.count), budget: batchTokens) {
                let t = probe.tokens.map(\.count).max() ?? 0
                let bytes = perToken * batch.tokens + 4 * batch.prompts * (l + 1) * h * t * t
                if bytes > largest.bytes {
                    largest = (bytes, "a batch of \(batch.prompts) induction probes of \(t) tokens",
                               batch.prompts > 1 ? "lower --batch-tokens or --probe-length" : "lower --probe-length")
                }
            }
        }
        guard largest.bytes > available else { return }
        throw InputError(file: nil, "\(largest.what) needs about \(gigabytes(largest.bytes)) of memory and \(gigabytes(available)) is available: \(largest.advice)")
    }

    /// Prompts and tokens of each batch: consecutive prompts within `budget` tokens, a longer
    /// prompt alone (as CaptureRunner packs them).
    public static func batches(_ lengths: [Int], budget: Int) -> [(prompts: Int, tokens: Int)] {
        var result: [(prompts: Int, tokens: Int)] = []
        var current = (prompts: 0, tokens: 0)
        for length in lengths {
            if current.prompts > 0 && current.tokens + length > budget {
                result.append(current)
                current = (0, 0)
            }
            current = (current.prompts + 1, current.tokens + length)
        }
        if current.prompts > 0 { result.append(current) }
        return result
    }

    private static func gigabytes(_ bytes: Int) -> String {
        String(format: "%.1f GB", Double(bytes) / 1e9)
    }
}
