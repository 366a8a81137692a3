import Foundation
import Shared

// Legend: L = layers, H = heads, T = probe tokens (BOS + 2R), R = repeat length.

/// Induction and previous-token scores of every head from the induction probe's full attention
/// patterns, in both conventions the literature uses (docs/methods.md §7).
public struct InductionScores: Sendable {
    public let probe: String
    public let sequences: Int
    public let repeatLength: Int
    /// Olsson et al.: mean attention from q in the second repeat to q - R + 1. [L*H]
    public let stripe: [Double]
    /// TransformerLens detect_head, 'mul': attention on the induction detection pattern over
    /// all attention (a perfect head scores about 0.5). [L*H]
    public let detectHeadMul: [Double]
    /// Mean attention from q to q - 1, q ≥ 1. [L*H]
    public let previousToken: [Double]

    public static func compute(dump: ShardedDump, probe: String) throws -> InductionScores {
        let group = "probes/\(probe)"
        let first = dump.files[0]
        let r = try first.intAttribute("repeat_length", of: group)
        let bos = try first.intAttribute("bos", of: group) == 1 ? 1 : 0
        let n = dump.layers * dump.heads
        var work: [(file: Int, row: Int, side: Int, tokens: [Int32])] = []
        for (f, file) in dump.files.enumerated() {
            let done = try file.read(group + "/done", as: UInt8.self)
            if let bad = done.firstIndex(where: { $0 > 1 }) {
                throw InputError(file: file.path, "/\(group)/done[\(bad)] is \(done[bad]); done flags are 0 or 1")
            }
            let t = file.size("token", in: group)
            guard file.size("query", in: group) == t, file.size("key", in: group) == t else {
                throw InputError(file: file.path, "/\(group): query and key dimensions differ from the \(t) tokens")
            }
            guard r >= 1, t >= bos + 2 * r else {
                throw InputError(file: file.path, "/\(group): repeat_length \(r) does not fit \(t) tokens")
            }
            let ids = try file.read(group + "/token_ids", as: Int32.self)
            for row in done.indices where done[row] == 1 { work.append((f, row, t, Array(ids[row * t ..< row * t + bos + 2 * r]))) }
        }
        guard !work.isEmpty else {
            throw InputError(file: first.path, "/\(group) has no finished probe sequence")
        }
        let readers = try dump.files.map { try ActivationReader(file: $0, dataset: group + "/attention_pattern") }
        let lock = NSLock()
        var stripe = [Double](repeating: 0, count: n), mul = stripe, previous = stripe
        var failure: Error?
        ComputeThreads.forEach(work.count) { i in
            let item = work[i], reader = readers[item.file]
            let side = item.side
            var pattern = [Float](repeating: 0, count: reader.rowElements)   // [L*H, T, T]
            do {
                try pattern.withUnsafeMutableBufferPointer { try reader.read(rows: item.row..<item.row + 1, into: $0.baseAddress!) }
            } catch {
                lock.withLock { failure = failure ?? error }
                return
            }
            let used = bos + 2 * r, tokens = item.tokens
            var s = [Double](repeating: 0, count: n), m = s, p = s
            for head in 0..<n {
                let base = head * side * side
                var stripeSum = 0.0
                for q in (bos + r)..<used { stripeSum += Double(pattern[base + q * side + q - r + 1]) }
                var hit = 0.0, total = 0.0, prev = 0.0
                for q in 0..<used {
                    for key in 0...q {
                        let a = Double(pattern[base + q * side + key])
                        total += a
                        if key >= 1 && key - 1 != q && tokens[key - 1] == tokens[q] { hit += a }
                    }
                    if q >= 1 { prev += Double(pattern[base + q * side + q - 1]) }
                }
                s[head] = stripeSum / Double(r)
                m[head] = total > 0 ? hit / total : .nan
                p[head] = prev / Double(used - 1)
            }
            lock.withLock {
                for head in 0..<n { stripe[head] += s[head]; mul[head] += m[head]; previous[head] += p[head] }
            }
        }
        if let failure { throw failure }
        let count = Double(work.count)
        return InductionScores(probe: probe, sequences: work.count, repeatLength: r,
                               stripe: stripe.map { $0 / count }, detectHeadMul: mul.map { $0 / count },
                               previousToken: previous.map { $0 / count })
    }
}
