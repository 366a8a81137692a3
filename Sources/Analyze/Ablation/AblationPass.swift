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
    /// Attribution-patching estimates of the same replacement (docs/methods.md §20), mean over
    /// the prompts of the change in the dump's gradient metric, at the answer position and at
    /// every position; nil without gradients (and at every position, mean ablation, in dumps
    /// without grad_z_position_sum).
    public var attributionAnswer: Double?
    public var attributionAllPositions: Double?
}

/// Per-prompt direct-effect estimates of the head sets compared with exact interventions
/// (docs/methods.md §18.3), in SetRows order: metric k of prompt p under head set s and mode m
/// is `values[((slot(s) * 2 + m) * prompts + p) * metrics + k]`, metrics as in `Metric`.
public struct AblationPerPrompt: Sendable {
    public enum Metric: Int, CaseIterable, Sendable {
        case goldLogit, goldLogprobLabels, labelCorrect, goldLogprobVocab, correct, inLabelSet
    }

    public static let metrics = Metric.allCases.count
    /// Head-set index (in the pass's order) -> slot; the baseline is `baselineSlot`.
    public let slots: [Int: Int]
    public let baselineSlot: Int
    public let prompts: Int
    public let values: [Double]

    /// nil when the head set kept no per-prompt values; mode 0 = zero, 1 = mean.
    public func value(set: Int?, mode: Int, prompt: Int, _ metric: Metric) -> Double? {
        let slot = set.map { slots[$0] } ?? baselineSlot
        guard let slot else { return nil }
        return values[((slot * 2 + mode) * prompts + prompt) * Self.metrics + metric.rawValue]
    }
}

/// How much of each layer's change in alignment and logit difference a head set's heads in
/// that layer make (docs/methods.md §9). [L] each.
public struct GeometryContribution: Sendable {
    public let headSet: String
    public let alignment: [Double]
    public let logitDifference: [Double]
}

/// The second pass over a set: z and the residual stream again, now that the head sets are
/// known. For each set S, X = sum over S of a_h (a_h = z_h W_O^h); zero ablation removes X from
/// resid_final, mean ablation replaces it by the leave-one-out mean, and the final norm is
/// recomputed exactly from the changed stream. Each head of any set is one GEMM per chunk,
/// whatever the number of sets that hold it: the 20 random sets and the named ones share most
/// heads (docs/methods.md §27).
enum AblationPass {
    static let chunkPrompts = HeadScorePass.chunkPrompts

    /// `kinds` names each head set's kind in the estimates (default: the set's own); the sets
    /// whose index is in `perPromptSets` also keep every prompt's values (with the baseline's).
    /// `pool` lends the workers' buffers.
    static func run(dump: ShardedDump, weights w: DumpWeights, scores: SetScores, headSets: [HeadSet],
                    kinds: [String]? = nil, perPromptSets: [Int] = [],
                    geometrySets: [HeadSet], pool: FloatBufferPool = FloatBufferPool(),
                    progress: ((Int) -> Void)? = nil) throws
        -> (estimates: [AblationEstimate], geometry: [GeometryContribution], perPrompt: AblationPerPrompt) {
        let rows = scores.rows, space = scores.space
        let l = w.layers, h = w.heads, e = w.dHead, d = w.dModel, y = space.count, p = rows.count
        let n = l * h
        guard p > 1 else {
            throw InputError(file: dump.files[0].path, "set \(rows.info.name) has \(p) done prompt(s); ablation estimates need at least 2 (leave-one-out means)")
        }
        let full = w.hasFullUnembedding
        let labelTokens = Set(space.tokens)
        // W_U in token order, for full-vocabulary logits: [V, D].
        let vocabularyRows = FloatBuffer(full ? (0..<w.vocabularySize).flatMap { Array(w.row(of: Int32($0))!) } : [])
        let folded = FloatBuffer(space.foldedRows)       // [Y, D]

        // Per head set: the sum over prompts of its heads' outputs, sum_p sum_S a_h (for
        // leave-one-out means): [D].
        func outputSum(_ heads: [HeadID]) -> [Double] {
            var total = [Double](repeating: 0, count: d)
            total.withUnsafeMutableBufferPointer { total in
                w.wO.withUnsafeBufferPointer { wO in
                    for id in heads {
                        let head = id.layer * h + id.head, block = wO.baseAddress! + w.headOffset(id.layer, id.head)
                        for r in 0..<e {
                            let zs = scores.zSum[head * e + r], row = block + r * d
                            for j in 0..<d { total[j] += zs * Double(row[j]) }
                        }
                    }
                }
            }
            return total
        }
        // Geometry: per set and layer, the heads of that layer.
        let geometryLayers: [[[HeadID]]] = geometrySets.map { set in (0..<l).map { layer in set.heads.filter { $0.layer == layer } } }
        let meanDifference: (Int) -> FloatBuffer = { gold in
            // mean over wrong labels of (v_gold - v_y'): [D]
            FloatBuffer((0..<d).map { j in
                var total: Float = 0
                for label in 0..<y where label != gold { total += space.vectors[gold * d + j] - space.vectors[label * d + j] }
                return y > 1 ? total / Float(y - 1) : .nan
            })
        }

        let directions = (0..<y).map(meanDifference)          // [Y][D], by gold label
        let basis = FloatBuffer(space.basis)                  // [k, D]
        // sum_S / (P-1) per set: [sets][D]
        let meanShares = headSets.map { set in FloatBuffer(outputSum(set.heads).map { Float($0 / Double(p - 1)) }) }
        // Accumulators of X per chunk row: one per head set, then one per geometry set and layer
        // with heads there; each head of any of them is added to the accumulators that hold it.
        let groups = headSets.map(\.heads) + geometryLayers.flatMap { $0.filter { !$0.isEmpty } }
        let geometryGroup: [[Int?]] = {
            var next = headSets.count
            return geometryLayers.map { $0.map { heads in
                guard !heads.isEmpty else { return nil }
                defer { next += 1 }
                return next
            } }
        }()
        var groupsOfHead: [HeadID: [Int]] = [:]
        for (group, heads) in groups.enumerated() {
            for id in heads { groupsOfHead[id, default: []].append(group) }
        }
        let sharedHeads = groupsOfHead.keys.sorted { $0.layer * h + $0.head < $1.layer * h + $1.head }
        let split = PromptChunks(rows: rows, files: dump.files.count, size: chunkPrompts)
        let slotOf = split.slot, chunks = split.chunks
        let group = "sets/\(rows.info.name)"
        let readers = try dump.files.map { file in
            try (z: ActivationReader(file: file, dataset: group + "/z"), resid: ActivationReader(file: file, dataset: group + "/resid"))
        }
        let readAhead = ReadAhead(chunks: chunks.count) { c in
            let chunk = chunks[c], reader = readers[chunk.file]
            return reader.z.byteRanges(rows: chunk.rows, firstPositionOnly: true) + reader.resid.byteRanges(rows: chunk.rows, firstPositionOnly: true)
        }
        defer { readAhead.stop() }
        // Accumulators: [set, mode (zero, mean), metric]; metric = gold logit, label logprob,
        // label correct, vocab logprob, correct, in label set. Index headSets.count is the baseline.
        let metrics = 6
        var totals = [Double](repeating: 0, count: (headSets.count + 1) * 2 * metrics)
        var geometryTotals = [Double](repeating: 0, count: geometrySets.count * l * 2)
        // Per-prompt values: slot of each kept set's accumulator index (set * 2 + mode), the
        // baseline's last; each prompt is written by the one worker whose chunk holds it.
        let keptSlots = Dictionary(uniqueKeysWithValues: perPromptSets.enumerated().map { ($1, $0) })
        let baselineSlot = perPromptSets.count
        let keptValues = UnsafeMutableBufferPointer<Double>.allocate(capacity: (baselineSlot + 1) * 2 * p * metrics)
        keptValues.initialize(repeating: .nan)
        defer { keptValues.deallocate() }
        let keptTarget: (Int) -> Int? = { index in
            index == headSets.count * 2 ? baselineSlot * 2 : keptSlots[index / 2].map { $0 * 2 + index % 2 }
        }
        let lock = NSLock()
        var failure: Error?
        var finished = 0
        let vocabularyBatch = 32
        let makeScratch = {
            Scratch(z: pool.lease(chunkPrompts * n * e), resid: pool.lease(chunkPrompts * (l + 1) * d),
                    headOutput: pool.lease(chunkPrompts * d), sums: pool.lease(groups.count * chunkPrompts * d),
                    streams: pool.lease(2 * chunkPrompts * d), logits: pool.lease(2 * chunkPrompts * y),
                    normed: pool.lease(full ? vocabularyBatch * d : 0),
                    vocabulary: pool.lease(full ? vocabularyBatch * w.vocabularySize : 0))
        }
        ComputeThreads.forEachCallingBLAS(chunks.count, scratch: makeScratch) { c, scratch in
            readAhead.take(c)
            let chunk = chunks[c], reader = readers[chunk.file]
            do {
                try reader.z.read(rows: chunk.rows, firstPositionOnly: true, into: scratch.z.pointer)
                try reader.resid.read(rows: chunk.rows, firstPositionOnly: true, into: scratch.resid.pointer)
            } catch {
                lock.withLock { failure = failure ?? error }
                return
            }
            var local = [Double](repeating: 0, count: totals.count)
            var localGeometry = [Double](repeating: 0, count: geometryTotals.count)
            // The chunk's done rows: i (row in the chunk) and slot (prompt in SetRows order).
            let done: [(i: Int, slot: Int)] = chunk.rows.enumerated().compactMap { i, row in slotOf[chunk.file][row].map { (i, $0) } }
            let m = done.count
            let z = scratch.z.pointer, resid = scratch.resid.pointer, streams = scratch.streams.pointer
            rows.applyAttentionOutputScale(to: z, done: done, layers: l, headWidth: h * e)
            func finalStream(_ i: Int) -> UnsafeMutablePointer<Float> { resid + (i * (l + 1) + l) * d }

            /// Adds the metrics of the final streams in `streams` ([streamCount, D]; row r is prompt
            /// done[r % m]) to accumulator `index(r)`, recomputing the final norm of each.
            func accumulate(streamCount: Int, index: (Int) -> Int) {
                func add(_ r: Int, _ metric: Int, _ value: Double) {
                    local[index(r) * metrics + metric] += value
                    if let kept = keptTarget(index(r)) { keptValues[(kept * p + done[r % m].slot) * metrics + metric] = value }
                }
                let logits = scratch.logits.pointer
                BLAS.matmulTransposedB(streams, lda: d, folded.pointer, ldb: d, logits, ldc: y, m: streamCount, n: y, k: d)
                var scales = [Float](repeating: 0, count: streamCount)
                for r in 0..<streamCount {
                    let slot = done[r % m].slot, row = logits + r * y
                    let scale = w.finalNormScale(streams + r * d)
                    scales[r] = scale
                    var largest = -Float.infinity, best = 0
                    for label in 0..<y {
                        row[label] = row[label] * scale + space.normBiasLogits[label]
                        if row[label] > largest { largest = row[label]; best = label }
                    }
                    var expSum = 0.0
                    for label in 0..<y { expSum += exp(Double(row[label] - largest)) }
                    let gold = space.goldIndex[slot]
                    add(r, 0, Double(row[gold]))
                    add(r, 1, Double(row[gold]) - Double(largest) - log(expSum))
                    add(r, 2, best == gold ? 1 : 0)
                }
                guard full else { return }
                let v = w.vocabularySize, normed = scratch.normed.pointer, vocabulary = scratch.vocabulary.pointer
                for first in stride(from: 0, to: streamCount, by: vocabularyBatch) {
                    let batch = min(vocabularyBatch, streamCount - first)
                    for b in 0..<batch {
                        w.applyFinalNorm(streams + (first + b) * d, scale: scales[first + b], into: normed + b * d)
                    }
                    BLAS.matmulTransposedB(normed, lda: d, vocabularyRows.pointer, ldb: d, vocabulary, ldc: v,
                                           m: batch, n: v, k: d)
                    for b in 0..<batch {
                        let r = first + b, logitsRow = vocabulary + b * v
                        var top = 0
                        for t in 1..<v where logitsRow[t] > logitsRow[top] { top = t }
                        let peak = logitsRow[top]
                        var expSum = 0.0
                        for t in 0..<v { expSum += Double(exp(logitsRow[t] - peak)) }
                        let goldToken = Int(rows.goldToken[done[r % m].slot])
                        add(r, 3, Double(logitsRow[goldToken]) - Double(peak) - log(expSum))
                        add(r, 4, top == goldToken ? 1 : 0)
                        add(r, 5, labelTokens.contains(Int32(top)) ? 1 : 0)
                    }
                }
            }
            // X of every group for every row of the chunk: sums[group] is [chunk, D].
            let rowCount = chunk.rows.count, sums = scratch.sums.pointer
            func sum(_ group: Int) -> UnsafeMutablePointer<Float> { sums + group * chunkPrompts * d }
            var written = [Bool](repeating: false, count: groups.count)
            if m > 0 {
                w.wO.withUnsafeBufferPointer { wO in
                    for id in sharedHeads {
                        let targets = groupsOfHead[id]!, block = wO.baseAddress! + w.headOffset(id.layer, id.head)
                        let zHead = z + (id.layer * h + id.head) * e
                        if targets.count == 1 {
                            let group = targets[0]
                            BLAS.matmul(zHead, lda: n * e, block, ldb: d, sum(group), ldc: d, m: rowCount, n: d, k: e,
                                        beta: written[group] ? 1 : 0)
                            written[group] = true
                            continue
                        }
                        let output = scratch.headOutput.pointer
                        BLAS.matmul(zHead, lda: n * e, block, ldb: d, output, ldc: d, m: rowCount, n: d, k: e)
                        for group in targets {
                            let target = sum(group)
                            if written[group] {
                                for j in 0..<(rowCount * d) { target[j] += output[j] }
                            } else {
                                target.update(from: output, count: rowCount * d)
                            }
                            written[group] = true
                        }
                    }
                }
            }

            if m > 0 {
                for (j, row) in done.enumerated() { (streams + j * d).update(from: finalStream(row.i), count: d) }
                accumulate(streamCount: m) { _ in headSets.count * 2 }
            }
            // a'_h = (sum_all - a_h,p) / (P - 1) for each head: sum over S of (a - a') =
            // X * P/(P-1) - sum_S / (P-1).
            let spread = Float(Double(p) / Double(p - 1))
            for (s, set) in headSets.enumerated() where m > 0 {
                let share = meanShares[s].pointer, output = sum(s)
                if set.heads.isEmpty { output.update(repeating: 0, count: rowCount * d) }
                for (j, row) in done.enumerated() {
                    let final = finalStream(row.i), x = output + row.i * d
                    let zeroed = streams + j * d, meaned = streams + (m + j) * d
                    for t in 0..<d {
                        zeroed[t] = final[t] - x[t]
                        meaned[t] = final[t] - x[t] * spread + share[t]
                    }
                }
                accumulate(streamCount: 2 * m) { $0 < m ? s * 2 : s * 2 + 1 }
            }
            for (g, layersOfSet) in geometryLayers.enumerated() where m > 0 {
                for layer in layersOfSet.indices {
                    guard let group = geometryGroup[g][layer] else { continue }
                    let output = sum(group)
                    for row in done {
                        let (alignmentChange, difference) =
                            contribution(of: output + row.i * d, to: resid + (row.i * (l + 1) + layer) * d,
                                         basis: basis.pointer, dimensions: space.dimension,
                                         direction: directions[space.goldIndex[row.slot]].pointer, width: d)
                        localGeometry[(g * l + layer) * 2] += Double(alignmentChange)
                        localGeometry[(g * l + layer) * 2 + 1] += Double(difference)
                    }
                }
            }
            lock.withLock {
                for j in totals.indices { totals[j] += local[j] }
                for j in geometryTotals.indices { geometryTotals[j] += localGeometry[j] }
                finished += m
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
            let kind = kinds?[s] ?? set.kind.rawValue
            estimates.append(estimate(set.name, kind, set.heads.count, "zero", s * 2))
            estimates.append(estimate(set.name, kind, set.heads.count, "mean", s * 2 + 1))
        }
        let geometry = geometrySets.enumerated().map { g, set in
            GeometryContribution(headSet: set.name,
                                 alignment: (0..<l).map { geometryTotals[(g * l + $0) * 2] / count },
                                 logitDifference: (0..<l).map { geometryTotals[(g * l + $0) * 2 + 1] / count })
        }
        let perPrompt = AblationPerPrompt(slots: keptSlots, baselineSlot: baselineSlot, prompts: p, values: Array(keptValues))
        return (estimates, geometry, perPrompt)
    }

    /// What adding `x` ([D]) to the residual stream `h` ([D]) does: the change in its alignment
    /// ||Q^T v|| / ||v|| with the task subspace (`basis`: [k, D] orthonormal rows), and x · direction.
    static func contribution(of x: UnsafePointer<Float>, to h: UnsafePointer<Float>, basis: UnsafePointer<Float>,
                             dimensions k: Int, direction: UnsafePointer<Float>, width d: Int) -> (Float, Float) {
        let hh = VectorMath.sumOfSquares(h, count: d), xx = VectorMath.sumOfSquares(x, count: d)
        let hx = VectorMath.dot(h, x, count: d), along = VectorMath.dot(x, direction, count: d)
        var before: Float = 0, after: Float = 0
        for q in 0..<k {
            let a = VectorMath.dot(basis + q * d, h, count: d), b = VectorMath.dot(basis + q * d, x, count: d)
            before += a * a
            after += (a + b) * (a + b)
        }
        let sum = hh + 2 * hx + xx
        guard hh > 0, sum > 0 else { return (.nan, along) }
        return ((after / sum).squareRoot() - (before / hh).squareRoot(), along)
    }

    /// One worker's buffers, reused over its chunks.
    struct Scratch {
        let z: FloatBufferPool.Lease          // [chunk, L*H*E]
        let resid: FloatBufferPool.Lease      // [chunk, L+1, D]
        let headOutput: FloatBufferPool.Lease // [chunk, D]: a_h of a head that several groups hold
        let sums: FloatBufferPool.Lease       // [groups, chunk, D]: X of each head set and geometry layer
        let streams: FloatBufferPool.Lease    // [2 * chunk, D]: zero-ablated rows, then mean-ablated rows
        let logits: FloatBufferPool.Lease     // [2 * chunk, Y]
        let normed: FloatBufferPool.Lease     // [vocabulary batch, D]
        let vocabulary: FloatBufferPool.Lease // [vocabulary batch, V]
    }
}
