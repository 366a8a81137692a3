import Foundation
import Shared

// Legend: n = prompts of a chunk, L = layers, H = heads, E = d_head, D = d_model, Y = distinct
// labels, V = vocabulary, S = heads of one head set.

/// Direct-effect estimate of ablating one head set at the answer position (docs/methods.md §5):
/// means over the set's done prompts.
public struct AblationEstimate: Sendable, Codable {
    public let headSet: String
    public let kind: String
    public let size: Int
    /// "zero", "mean", or "none" for the unablated baseline.
    public let mode: String
    public let prompts: Int
    public let goldLogit: Double
    public let goldLogprobLabels: Double
    public let labelAccuracy: Double
    /// Full-vocabulary metrics: only when the dump stores every unembedding row.
    public let goldLogprobVocab: Double?
    public let accuracy: Double?
    public let labelSetRatio: Double?
}

/// How much of each layer's change in alignment and logit difference a head set's heads in
/// that layer make (docs/methods.md §9). [L] each.
public struct GeometryContribution: Sendable {
    public let headSet: String
    public let alignment: [Double]
    public let logitDifference: [Double]
}

/// The second pass over a set: z and the residual stream again, now that the head sets are
/// known. For each set S, X = sum over S of z_h W_O^h is one GEMM per chunk; zero ablation
/// removes X from resid_final, mean ablation replaces it by the leave-one-out mean, and the
/// final norm is recomputed exactly from the changed stream.
enum AblationPass {
    static let chunkPrompts = HeadScorePass.chunkPrompts

    static func run(dump: ShardedDump, weights w: DumpWeights, scores: SetScores, headSets: [HeadSet],
                    geometrySets: [HeadSet], progress: ((Int) -> Void)? = nil) throws
        -> (estimates: [AblationEstimate], geometry: [GeometryContribution]) {
        let rows = scores.rows, space = scores.space
        let l = w.layers, h = w.heads, e = w.dHead, d = w.dModel, y = space.count, p = rows.count
        let n = l * h
        guard p > 1 else {
            throw InputError(file: dump.files[0].path, "set \(rows.info.name) has \(p) done prompt(s); ablation estimates need at least 2 (leave-one-out means)")
        }
        let full = w.hasFullUnembedding
        let labelTokens = Set(space.tokens)
        // W_U in token order, for full-vocabulary logits: [V, D].
        let vocabularyRows: [Float] = full ? (0..<w.vocabularySize).flatMap { Array(w.row(of: Int32($0))!) } : []

        // Per head set: its stacked W_O blocks [S*E, D] and the sum over prompts of its heads'
        // outputs, sum_p sum_S a_h (for leave-one-out means): [D].
        func stacked(_ heads: [HeadID]) -> [Float] {
            heads.flatMap { w.wO[w.headOffset($0.layer, $0.head) ..< w.headOffset($0.layer, $0.head) + e * d] }
        }
        func outputSum(_ heads: [HeadID]) -> [Double] {
            var total = [Double](repeating: 0, count: d)
            for id in heads {
                let head = id.layer * h + id.head, base = w.headOffset(id.layer, id.head)
                for r in 0..<e {
                    let zs = scores.zSum[head * e + r]
                    for j in 0..<d { total[j] += zs * Double(w.wO[base + r * d + j]) }
                }
            }
            return total
        }
        let blocks = headSets.map { stacked($0.heads) }
        let sums = headSets.map { outputSum($0.heads) }
        // Geometry: per set and layer, the heads of that layer.
        let geometryLayers: [[[HeadID]]] = geometrySets.map { set in (0..<l).map { layer in set.heads.filter { $0.layer == layer } } }
        let meanDifference: (Int) -> [Float] = { gold in
            // mean over wrong labels of (v_gold - v_y'): [D]
            (0..<d).map { j in
                var total: Float = 0
                for label in 0..<y where label != gold { total += space.vectors[gold * d + j] - space.vectors[label * d + j] }
                return y > 1 ? total / Float(y - 1) : .nan
            }
        }

        let directions = (0..<y).map(meanDifference)          // [Y][D], by gold label
        let meanShares = sums.map { sum in sum.map { Float($0 / Double(p - 1)) } }   // [sets][D]: sum_S / (P-1)
        let geometryBlocks = geometryLayers.map { $0.map(stacked) }
        let split = PromptChunks(rows: rows, files: dump.files.count, size: chunkPrompts)
        let slotOf = split.slot, chunks = split.chunks
        let group = "sets/\(rows.info.name)"
        let readers = try dump.files.map { file in
            try (z: ActivationReader(file: file, dataset: group + "/z"), resid: ActivationReader(file: file, dataset: group + "/resid"))
        }
        // Accumulators: [set, mode (zero, mean), metric]; metric = gold logit, label logprob,
        // label correct, vocab logprob, correct, in label set. Index headSets.count is the baseline.
        let metrics = 6
        var totals = [Double](repeating: 0, count: (headSets.count + 1) * 2 * metrics)
        var geometryTotals = [Double](repeating: 0, count: geometrySets.count * l * 2)
        let lock = NSLock()
        var failure: Error?
        var finished = 0
        ComputeThreads.forEachCallingBLAS(chunks.count) { c in
            let chunk = chunks[c], reader = readers[chunk.file], count = chunk.rows.count
            var z = [Float](repeating: 0, count: count * n * e)             // [n, L*H*E]
            var resid = [Float](repeating: 0, count: count * (l + 1) * d)   // [n, L+1, D]
            do {
                try z.withUnsafeMutableBufferPointer { try reader.z.read(rows: chunk.rows, firstPositionOnly: true, into: $0.baseAddress!) }
                try resid.withUnsafeMutableBufferPointer { try reader.resid.read(rows: chunk.rows, firstPositionOnly: true, into: $0.baseAddress!) }
            } catch {
                lock.withLock { failure = failure ?? error }
                return
            }
            var local = [Double](repeating: 0, count: totals.count)
            var localGeometry = [Double](repeating: 0, count: geometryTotals.count)
            let slots = chunk.rows.map { slotOf[chunk.file][$0] }

            var logits = [Float](repeating: 0, count: y)
            /// Metrics of the changed final stream `stream` ([D]) for prompt slot `slot`.
            func accumulate(_ stream: UnsafePointer<Float>, slot: Int, into index: Int) {
                var squares: Float = 0
                for j in 0..<d { squares += stream[j] * stream[j] }
                let scale = 1 / (squares / Float(d) + w.epsilon).squareRoot()
                space.foldedRows.withUnsafeBufferPointer { folded in
                    for label in 0..<y {
                        var dot: Float = 0
                        let row = folded.baseAddress! + label * d
                        for j in 0..<d { dot += stream[j] * row[j] }
                        logits[label] = scale * dot
                    }
                }
                let gold = space.goldIndex[slot]
                let largest = logits.max() ?? 0
                let logSum = Double(largest) + log(logits.reduce(0.0) { $0 + exp(Double($1 - largest)) })
                let best = logits.indices.max { logits[$0] < logits[$1] || (logits[$0] == logits[$1] && $0 > $1) } ?? 0
                local[index * metrics] += Double(logits[gold])
                local[index * metrics + 1] += Double(logits[gold]) - logSum
                local[index * metrics + 2] += best == gold ? 1 : 0
                guard full else { return }
                var normed = [Float](repeating: 0, count: d)
                for j in 0..<d { normed[j] = scale * w.gamma[j] * stream[j] }
                var vocabulary = [Float](repeating: 0, count: w.vocabularySize)
                BLAS.matmulTransposedB(normed, lda: d, vocabularyRows, ldb: d, &vocabulary, ldc: w.vocabularySize,
                                       m: 1, n: w.vocabularySize, k: d)
                var top = 0
                for t in 1..<vocabulary.count where vocabulary[t] > vocabulary[top] { top = t }
                let peak = vocabulary[top]
                let vocabularyLogSum = Double(peak) + log(vocabulary.reduce(0.0) { $0 + exp(Double($1 - peak)) })
                let goldToken = Int(rows.goldToken[slot])
                local[index * metrics + 3] += Double(vocabulary[goldToken]) - vocabularyLogSum
                local[index * metrics + 4] += top == goldToken ? 1 : 0
                local[index * metrics + 5] += labelTokens.contains(Int32(top)) ? 1 : 0
            }

            for (i, slot) in slots.enumerated() {
                guard let slot else { continue }
                resid.withUnsafeBufferPointer { accumulate($0.baseAddress! + (i * (l + 1) + l) * d, slot: slot, into: headSets.count * 2) }
            }
            var zeroed = [Float](repeating: 0, count: d), meaned = zeroed
            let promptTotal = Double(p)
            for (s, set) in headSets.enumerated() {
                let width = set.heads.count * e
                var gathered = [Float](repeating: 0, count: count * width)   // [n, S*E]
                for i in 0..<count {
                    for (j, id) in set.heads.enumerated() {
                        let from = i * n * e + (id.layer * h + id.head) * e
                        for r in 0..<e { gathered[i * width + j * e + r] = z[from + r] }
                    }
                }
                var output = [Float](repeating: 0, count: count * d)           // [n, D] = X
                BLAS.matmul(gathered, lda: width, blocks[s], ldb: d, &output, ldc: d, m: count, n: d, k: width)
                for (i, slot) in slots.enumerated() {
                    guard let slot else { continue }
                    let base = (i * (l + 1) + l) * d
                    // a'_h = (sum_all - a_h,p) / (P - 1) for each head: sum over S of (a - a') =
                    // X * P/(P-1) - sum_S / (P-1).
                    let spread = Float(promptTotal / (promptTotal - 1))
                    meanShares[s].withUnsafeBufferPointer { share in
                        for j in 0..<d {
                            let x = output[i * d + j]
                            zeroed[j] = resid[base + j] - x
                            meaned[j] = resid[base + j] - x * spread + share[j]
                        }
                    }
                    zeroed.withUnsafeBufferPointer { accumulate($0.baseAddress!, slot: slot, into: s * 2) }
                    meaned.withUnsafeBufferPointer { accumulate($0.baseAddress!, slot: slot, into: s * 2 + 1) }
                }
            }
            for (g, layersOfSet) in geometryLayers.enumerated() {
                for (layer, heads) in layersOfSet.enumerated() where !heads.isEmpty {
                    let width = heads.count * e, block = geometryBlocks[g][layer]
                    var gathered = [Float](repeating: 0, count: count * width)
                    for i in 0..<count {
                        for (j, id) in heads.enumerated() {
                            let from = i * n * e + (id.layer * h + id.head) * e
                            for r in 0..<e { gathered[i * width + j * e + r] = z[from + r] }
                        }
                    }
                    var output = [Float](repeating: 0, count: count * d)
                    BLAS.matmul(gathered, lda: width, block, ldb: d, &output, ldc: d, m: count, n: d, k: width)
                    for (i, slot) in slots.enumerated() {
                        guard let slot else { continue }
                        let (alignmentChange, difference) = resid.withUnsafeBufferPointer { r in
                            output.withUnsafeBufferPointer { o in
                                directions[space.goldIndex[slot]].withUnsafeBufferPointer { direction in
                                    space.basis.withUnsafeBufferPointer { basis in
                                        contribution(of: o.baseAddress! + i * d, to: r.baseAddress! + (i * (l + 1) + layer) * d,
                                                     basis: basis.baseAddress!, dimensions: space.dimension,
                                                     direction: direction.baseAddress!, width: d)
                                    }
                                }
                            }
                        }
                        localGeometry[(g * l + layer) * 2] += Double(alignmentChange)
                        localGeometry[(g * l + layer) * 2 + 1] += Double(difference)
                    }
                }
            }
            lock.withLock {
                for j in totals.indices { totals[j] += local[j] }
                for j in geometryTotals.indices { geometryTotals[j] += localGeometry[j] }
                finished += count
                progress?(finished)
            }
        }
        if let failure { throw failure }

        let count = Double(p)
        func estimate(_ name: String, _ kind: String, _ size: Int, _ mode: String, _ index: Int) -> AblationEstimate {
            let t = Array(totals[index * metrics ..< (index + 1) * metrics]).map { $0 / count }
            return AblationEstimate(headSet: name, kind: kind, size: size, mode: mode, prompts: p,
                                    goldLogit: t[0], goldLogprobLabels: t[1], labelAccuracy: t[2],
                                    goldLogprobVocab: full ? t[3] : nil, accuracy: full ? t[4] : nil,
                                    labelSetRatio: full && rows.info.kind == .classification ? t[5] : nil)
        }
        var estimates = [estimate("baseline", "baseline", 0, "none", headSets.count * 2)]
        for (s, set) in headSets.enumerated() {
            estimates.append(estimate(set.name, set.kind.rawValue, set.heads.count, "zero", s * 2))
            estimates.append(estimate(set.name, set.kind.rawValue, set.heads.count, "mean", s * 2 + 1))
        }
        let geometry = geometrySets.enumerated().map { g, set in
            GeometryContribution(headSet: set.name,
                                 alignment: (0..<l).map { geometryTotals[(g * l + $0) * 2] / count },
                                 logitDifference: (0..<l).map { geometryTotals[(g * l + $0) * 2 + 1] / count })
        }
        return (estimates, geometry)
    }

    /// What adding `x` ([D]) to the residual stream `h` ([D]) does: the change in its alignment
    /// ||Q^T v|| / ||v|| with the task subspace (`basis`: [k, D] orthonormal rows), and x · direction.
    static func contribution(of x: UnsafePointer<Float>, to h: UnsafePointer<Float>, basis: UnsafePointer<Float>,
                             dimensions k: Int, direction: UnsafePointer<Float>, width d: Int) -> (Float, Float) {
        var hh: Float = 0, hx: Float = 0, xx: Float = 0, along: Float = 0
        for j in 0..<d {
            hh += h[j] * h[j]
            hx += h[j] * x[j]
            xx += x[j] * x[j]
            along += x[j] * direction[j]
        }
        var before: Float = 0, after: Float = 0
        for q in 0..<k {
            let row = basis + q * d
            var a: Float = 0, b: Float = 0
            for j in 0..<d {
                a += row[j] * h[j]
                b += row[j] * x[j]
            }
            before += a * a
            after += (a + b) * (a + b)
        }
        let sum = hh + 2 * hx + xx
        guard hh > 0, sum > 0 else { return (.nan, along) }
        return ((after / sum).squareRoot() - (before / hh).squareRoot(), along)
    }
}
