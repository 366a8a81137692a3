import Foundation
import Shared

// Legend: P = done prompts of a set (SetRows order), n = L*H heads, E = d_head, K = replacement means.

/// First-order (attribution-patching) estimates of replacing each head's z, per prompt and
/// head, from the gradients a `--grads` capture stored (docs/methods.md §20): in units of the
/// dump's metric M,
///
///     zero, answer:  -z_h[a] . dM/dz_h[a]                 = -head_zgrad_answer
///     zero, all:     -sum_t z_h[t] . dM/dz_h[t]           = -head_zgrad_all_positions
///     mean, answer:  (m_h - z_h[a]) . dM/dz_h[a]
///     mean, all:     m_h . sum_t dM/dz_h[t] - head_zgrad_all_positions
///
/// with `a` the answer position and m_h a replacement mean (`ReplacementMean`). The estimate of
/// a head set is the sum of its heads' (first order is linear).
struct HeadAttribution: Sendable {
    let metric: GradientMetric
    let prompts: Int
    let heads: Int
    let zeroAnswer: [Double]            // [P, n]
    let zeroAll: [Double]               // [P, n]
    let meanAnswer: [[Double]]          // [K][P, n]
    /// nil for dumps without grad_z_position_sum (format 1.2).
    let meanAll: [[Double]?]            // [K][P, n]

    /// Per prompt, the sum over `heads` of one of the per-head arrays: [P]
    func headSet(_ heads: [HeadID], of values: [Double], headsPerLayer h: Int) -> [Double] {
        let n = self.heads
        return (0..<prompts).map { p in heads.reduce(0.0) { $0 + values[p * n + $1.layer * h + $1.head] } }
    }

    /// Reads the set's gradients and forms every estimate for each of `means`.
    static func run(dump: ShardedDump, weights w: DumpWeights, rows: SetRows, metric: GradientMetric,
                    means: [ReplacementMean]) throws -> HeadAttribution {
        let n = w.layers * w.heads, e = w.dHead, p = rows.count, width = n * e
        let group = "sets/\(rows.info.name)"
        let hasPositionSum = dump.files.allSatisfy { $0.has(group + "/grad_z_position_sum") }
        for file in dump.files {
            for name in ["grad_z", "head_zgrad_answer", "head_zgrad_all_positions"] where !file.has(group + "/" + name) {
                throw InputError(file: file.path, "dataset /\(group)/\(name) is missing, but gradient_metric is \(metric.rawValue)")
            }
        }
        var zeroAnswer = [Double](repeating: .nan, count: p * n), zeroAll = zeroAnswer
        var meanAnswer = [[Double]](repeating: zeroAnswer, count: means.count)
        var meanAll = [[Double]](repeating: zeroAnswer, count: hasPositionSum ? means.count : 0)
        let split = PromptChunks(rows: rows, files: dump.files.count, size: HeadScorePass.chunkPrompts)
        var z = [Float](repeating: 0, count: split.chunks.map(\.rows.count).max().map { $0 * width } ?? 0)
        var gradient = z, positionSum = z
        for f in dump.files.indices {
            let file = dump.files[f]
            let zReader = try ActivationReader(file: file, dataset: group + "/z")
            let gradientReader = try ActivationReader(file: file, dataset: group + "/grad_z")
            let sumReader = hasPositionSum ? try ActivationReader(file: file, dataset: group + "/grad_z_position_sum") : nil
            let answerSums = try file.read(group + "/head_zgrad_answer", as: Float.self)         // [rows, n]
            let allSums = try file.read(group + "/head_zgrad_all_positions", as: Float.self)     // [rows, n]
            for chunk in split.chunks where chunk.file == f {
                try z.withUnsafeMutableBufferPointer { try zReader.read(rows: chunk.rows, firstPositionOnly: true, into: $0.baseAddress!) }
                try gradient.withUnsafeMutableBufferPointer {
                    try gradientReader.read(rows: chunk.rows, firstPositionOnly: true, into: $0.baseAddress!)
                }
                if let sumReader {
                    try positionSum.withUnsafeMutableBufferPointer { try sumReader.read(rows: chunk.rows, into: $0.baseAddress!) }
                }
                for (i, row) in chunk.rows.enumerated() {
                    guard let slot = split.slot[f][row] else { continue }
                    let index = rows.promptIndex[slot]
                    for j in 0..<n {
                        let at = slot * n + j
                        let zg = Double(answerSums[row * n + j]), zgAll = Double(allSums[row * n + j])
                        zeroAnswer[at] = -zg
                        zeroAll[at] = -zgAll
                        let base = i * width + j * e
                        var zDotSum = 0.0
                        if hasPositionSum { for r in 0..<e { zDotSum += Double(z[base + r]) * Double(positionSum[base + r]) } }
                        var zDotGradient = 0.0
                        for r in 0..<e { zDotGradient += Double(z[base + r]) * Double(gradient[base + r]) }
                        for (k, mean) in means.enumerated() {
                            guard let entry = mean.perFile[f] else { continue }
                            var sumDotGradient = 0.0, sumDotSum = 0.0
                            for r in 0..<e {
                                sumDotGradient += entry.sum[j * e + r] * Double(gradient[base + r])
                                if hasPositionSum { sumDotSum += entry.sum[j * e + r] * Double(positionSum[base + r]) }
                            }
                            // m . x with m the mean over the entry's prompts, or over the others.
                            let own = mean.leaveOneOut && entry.promptIndex.contains(index)
                            let count = Double(entry.count - (own ? 1 : 0))
                            let mg = count > 0 ? (sumDotGradient - (own ? zDotGradient : 0)) / count : .nan
                            meanAnswer[k][at] = mg - zg
                            if hasPositionSum {
                                meanAll[k][at] = (count > 0 ? (sumDotSum - (own ? zDotSum : 0)) / count : .nan) - zgAll
                            }
                        }
                    }
                }
            }
        }
        return HeadAttribution(metric: metric, prompts: p, heads: n, zeroAnswer: zeroAnswer, zeroAll: zeroAll,
                               meanAnswer: meanAnswer, meanAll: hasPositionSum ? meanAll.map { $0 } : means.map { _ in nil })
    }
}
