import Foundation
import Shared

// Legend: n = prompts of a chunk, L = layers, H = heads, E = d_head, D = d_model, T = the file's
// token axis, Y = distinct labels, k = subspace dimensions, W = k + 2Y.

/// The first pass over one prompt set: streams z, the residual stream and the attention rows at
/// the answer position, chunk by chunk on every core, and computes each prompt's per-head
/// scores without ever forming a head's d_model-wide output: every quantity is z_h times a small
/// per-head matrix precomputed from W_O (docs/methods.md §3-§7, §9).
public enum HeadScorePass {
    /// Prompts per chunk. A prompt's values depend on its chunk's other rows only through
    /// OpenBLAS's choice of kernel (fp32 rounding, ~1e-9 relative): shards of a capture give
    /// the whole capture's report to that precision.
    static let chunkPrompts = 64

    /// `pool` lends the workers' buffers (one pool for all sets of a report reuses them).
    public static func run(dump: ShardedDump, weights w: DumpWeights, rows: SetRows, space: LabelSpace,
                           pool: FloatBufferPool = FloatBufferPool(), progress: ((Int) -> Void)? = nil) throws -> SetScores {
        let l = w.layers, h = w.heads, e = w.dHead, d = w.dModel, y = space.count, k = space.dimension
        let columns = k + 2 * y
        var scores = SetScores(rows: rows, space: space, layers: l, heads: h, dHead: e)
        guard rows.count > 0 else {
            scores.summarize()
            return scores
        }

        // Per head [E, W]: [W_O Q^T | W_O V^T | W_O F^T], so z_h times it gives Q^T a, v_y · a
        // and (gamma ⊙ w_y) · a.
        let projections = space.basis + space.vectors + space.foldedRows      // [k + 2Y, D]
        let headMatrices = FloatBuffer(count: l * h * e * columns)
        // ||W_O^h||_F per head, a little above: ||a|| <= ||z_h|| times it. [L*H]
        let normBound = FloatBuffer(count: l * h)
        ComputeThreads.forEachCallingBLAS(l * h) { head in
            w.wO.withUnsafeBufferPointer { wO in
                let block = wO.baseAddress! + head * e * d
                BLAS.matmulTransposedB(block, lda: d, projections, ldb: d, headMatrices.pointer + head * e * columns,
                                       ldc: columns, m: e, n: columns, k: d)
                normBound[head] = VectorMath.sumOfSquares(block, count: e * d).squareRoot() * 1.001
            }
        }
        /// Whether tr may divide TL: not when it is at most 1e-6 of ||a|| (or a = 0). The bound
        /// decides almost every head; a = z_h W_O^h is formed only where it does not.
        func trUsable(_ tr: Float, z: UnsafePointer<Float>, head: Int) -> Bool {
            if tr > 1e-6 * VectorMath.sumOfSquares(z, count: e).squareRoot() * normBound[head] { return true }
            let aSquared = w.wO.withUnsafeBufferPointer { wO in
                let block = wO.baseAddress! + head * e * d
                return (0..<d).reduce(0.0) { total, j in
                    let value = (0..<e).reduce(0.0) { $0 + Double(z[$1]) * Double(block[$1 * d + j]) }
                    return total + value * value
                }
            }
            let aNorm = Float(aSquared.squareRoot())
            return aNorm > 0 && tr > 1e-6 * aNorm
        }
        // Attention-bias projections: [L, Y] = b_O · (gamma ⊙ w_y), before the scale.
        var biasLogits = [Float](repeating: 0, count: l * y)
        if let bO = w.bO {
            for layer in 0..<l {
                for label in 0..<y {
                    var dot: Float = 0
                    for j in 0..<d { dot += bO[layer * d + j] * space.foldedRows[label * d + j] }
                    biasLogits[layer * y + label] = dot
                }
            }
        }

        let reads = try Reads(dump: dump, rows: rows)
        let slotOf = reads.split.slot, chunks = reads.split.chunks, readers = reads.readers
        let readAhead = ReadAhead(chunks: chunks.count) { reads.byteRanges(chunk: $0) }
        defer { readAhead.stop() }
        let lock = NSLock()
        var failure: Error?
        var finished = 0
        let goldIndex = space.goldIndex
        let categoryCount = KeyCategory.allCases.count
        let n = l * h
        let p = rows.count
        let trOut = FloatBuffer(count: p * n), tlOut = FloatBuffer(count: p * n)
        let goldOut = FloatBuffer(count: p * n), marginOut = FloatBuffer(count: p * n)
        let attentionOut = FloatBuffer(count: p * n * categoryCount), embeddingOut = FloatBuffer(count: p * 2)
        let biasOut = FloatBuffer(count: p * l * 2), mlpOut = FloatBuffer(count: p * l * 2)
        let alignOut = FloatBuffer(count: p * (l + 1)), differenceOut = FloatBuffer(count: p * (l + 1))
        var zSum = [Double](repeating: 0, count: n * e)
        var componentError: Float = 0, logitScale: Float = 0
        let tokens = readers.map(\.layout.tokens).max() ?? 0
        let makeScratch = {
            Scratch(z: pool.lease(chunkPrompts * n * e), resid: pool.lease(chunkPrompts * (l + 1) * d),
                    attention: pool.lease(chunkPrompts * n * tokens), headOut: pool.lease(chunkPrompts * columns),
                    headLogits: pool.lease(chunkPrompts * n * y), residOut: pool.lease((l + 1) * columns))
        }
        ComputeThreads.forEachCallingBLAS(chunks.count, scratch: makeScratch) { c, scratch in
            readAhead.take(c)
            let chunk = chunks[c], reader = readers[chunk.file], t = reader.layout.tokens
            let z = scratch.z.pointer, resid = scratch.resid.pointer, attention = scratch.attention.pointer
            let headOut = scratch.headOut.pointer, headLogits = scratch.headLogits.pointer   // [n, W], [n, L*H, Y] before the scale
            let residOut = scratch.residOut.pointer                                           // [L+1, W]
            var zPartial = [Double](repeating: 0, count: n * e)
            var worstError: Float = 0, largestLogit: Float = 0
            do {
                try reader.z.read(rows: chunk.rows, firstPositionOnly: true, into: z)
                try reader.resid.read(rows: chunk.rows, firstPositionOnly: true, into: resid)
                try reader.attention.read(rows: chunk.rows, into: attention)
            } catch {
                lock.withLock { failure = failure ?? error }
                return
            }
            // The chunk's done rows: i (row in the chunk) and slot (prompt in SetRows order).
            let done: [(i: Int, slot: Int)] = chunk.rows.enumerated().compactMap { i, row in slotOf[chunk.file][row].map { (i, $0) } }
            rows.applyAttentionOutputScale(to: z, done: done, layers: l, headWidth: h * e)
            for head in 0..<n {
                BLAS.matmul(z + head * e, lda: n * e, headMatrices.pointer + head * e * columns, ldb: columns,
                            headOut, ldc: columns, m: chunk.rows.count, n: columns, k: e)
                for (i, slot) in done {
                    let out = headOut + i * columns, scale = rows.finalNormScale[slot], gold = goldIndex[slot]
                    let tr = VectorMath.sumOfSquares(out, count: k).squareRoot()
                    var tlSum: Float = 0, others: Float = 0
                    for label in 0..<y where label != gold {
                        tlSum += out[k + gold] - out[k + label]
                        others += scale * out[k + y + label]
                    }
                    let wrong = Float(max(y - 1, 1))
                    let target = slot * n + head
                    // One label spans no task subspace worth the name (docs/methods.md §2).
                    trOut[target] = y < 2 ? .nan : tr
                    tlOut[target] = (y < 2 || !trUsable(tr, z: z + (i * n + head) * e, head: head)) ? .nan : tlSum / wrong / tr
                    let goldLogit = scale * out[k + y + gold]
                    goldOut[target] = goldLogit
                    marginOut[target] = y < 2 ? .nan : goldLogit - others / wrong
                    for label in 0..<y { headLogits[(i * n + head) * y + label] = scale * out[k + y + label] }
                }
            }
            for (i, slot) in done {
                let row = chunk.rows.lowerBound + i
                let scale = rows.finalNormScale[slot], gold = goldIndex[slot]
                zPartial.withUnsafeMutableBufferPointer { partial in
                    let row = z + i * n * e
                    for j in 0..<(n * e) { partial[j] += Double(row[j]) }
                }
                // Attention mass per key category, per head: the keys fall into runs of one
                // category (spans of demonstrations, the query, template words).
                let runs = reader.layout.runs(row: row)
                for head in 0..<n {
                    let keys = attention + (i * n + head) * t, target = attentionOut.pointer + (slot * n + head) * categoryCount
                    for c in 0..<categoryCount { target[c] = 0 }
                    for run in runs { target[run.category] += VectorMath.sum(keys + run.keys.lowerBound, count: run.keys.count) }
                }
                // The residual stream: Q^T h, v_y · h and (gamma ⊙ w_y) · h per stored layer, one
                // product per prompt (a product over the chunk would round a prompt's values
                // differently in shards, whose chunks hold other rows).
                BLAS.matmulTransposedB(resid + i * (l + 1) * d, lda: d, projections, ldb: d,
                                       residOut, ldc: columns, m: l + 1, n: columns, k: d)
                func residLogit(_ layer: Int, _ label: Int) -> Float { scale * residOut[layer * columns + k + y + label] }
                func goldAndMargin(_ logit: (Int) -> Float) -> (Float, Float) {
                    var others: Float = 0
                    for label in 0..<y where label != gold { others += logit(label) }
                    return (logit(gold), y < 2 ? .nan : logit(gold) - others / Float(max(y - 1, 1)))
                }
                for layer in 0...l {
                    let norm = VectorMath.sumOfSquares(resid + (i * (l + 1) + layer) * d, count: d)
                    let projected = residOut + layer * columns
                    let inSpace = VectorMath.sumOfSquares(projected, count: k)
                    var difference: Float = 0
                    for label in 0..<y where label != gold { difference += projected[k + gold] - projected[k + label] }
                    alignOut[slot * (l + 1) + layer] = norm > 0 ? inSpace.squareRoot() / norm.squareRoot() : .nan
                    differenceOut[slot * (l + 1) + layer] = y < 2 ? .nan : difference / Float(y - 1)
                }
                let (embeddingGold, embeddingMargin) = goldAndMargin { residLogit(0, $0) }
                embeddingOut[slot * 2] = embeddingGold
                embeddingOut[slot * 2 + 1] = embeddingMargin
                // The final LayerNorm's beta · w_y is part of the logit and of no component.
                var total = (0..<y).map { residLogit(0, $0) + space.normBiasLogits[$0] }
                for layer in 0..<l {
                    let heads = (0..<y).map { label in (0..<h).reduce(Float(0)) { $0 + headLogits[(i * n + layer * h + $1) * y + label] } }
                    let bias = (0..<y).map { scale * biasLogits[layer * y + $0] }
                    let mlp = (0..<y).map { residLogit(layer + 1, $0) - residLogit(layer, $0) - heads[$0] - bias[$0] }
                    let (biasGold, biasMargin) = goldAndMargin { bias[$0] }
                    let (mlpGold, mlpMargin) = goldAndMargin { mlp[$0] }
                    biasOut[(slot * l + layer) * 2] = biasGold
                    biasOut[(slot * l + layer) * 2 + 1] = biasMargin
                    mlpOut[(slot * l + layer) * 2] = mlpGold
                    mlpOut[(slot * l + layer) * 2 + 1] = mlpMargin
                    for label in 0..<y { total[label] += heads[label] + bias[label] + mlp[label] }
                }
                // Every component summed must give the stored label logits (§4).
                for (label, token) in space.tokens.enumerated() {
                    guard let column = rows.info.labelIDs.firstIndex(of: token) else { continue }
                    let stored = rows.labelLogits[slot * rows.info.labelIDs.count + column]
                    worstError = max(worstError, abs(total[label] - stored))
                    largestLogit = max(largestLogit, abs(stored))
                }
            }
            lock.withLock {
                for j in 0..<(n * e) { zSum[j] += zPartial[j] }
                componentError = max(componentError, worstError)
                logitScale = max(logitScale, largestLogit)
                finished += done.count
                progress?(finished)
            }
        }
        if let failure { throw failure }
        scores.tr = trOut.array
        scores.tl = tlOut.array
        scores.dlaGold = goldOut.array
        scores.dlaMargin = marginOut.array
        scores.attention = attentionOut.array
        scores.embedding = embeddingOut.array
        scores.attentionBias = biasOut.array
        scores.mlp = mlpOut.array
        scores.alignment = alignOut.array
        scores.logitDifference = differenceOut.array
        scores.zSum = zSum
        scores.componentError = componentError
        scores.logitScale = logitScale
        scores.summarize()
        return scores
    }

    /// Starts reading, in the background, the first `bytes` of what `run` will read of the set
    /// of `rows`: the report calls it for the next set while the current one's ablation pass and
    /// bootstraps compute, so that a cold file's disk does not idle meanwhile. Stop the
    /// returned read-ahead once that set's pass has run.
    static func prefetch(dump: ShardedDump, rows: SetRows, bytes: Int) throws -> ReadAhead {
        let reads = try Reads(dump: dump, rows: rows)
        var chunks = 0, total = 0
        while chunks < reads.split.chunks.count {
            total += reads.byteRanges(chunk: chunks).reduce(0) { $0 + $1.length }
            guard total <= bytes else { break }
            chunks += 1
        }
        return ReadAhead(chunks: chunks, depth: max(chunks, 1)) { reads.byteRanges(chunk: $0) }
    }

    /// The datasets the pass streams from every file of a capture, chunked by prompts.
    struct Reads: Sendable {
        let split: PromptChunks
        let readers: [(z: ActivationReader, resid: ActivationReader, attention: ActivationReader, layout: PromptLayout)]

        init(dump: ShardedDump, rows: SetRows) throws {
            split = PromptChunks(rows: rows, files: dump.files.count, size: HeadScorePass.chunkPrompts)
            let group = "sets/\(rows.info.name)"
            readers = try dump.files.map { file in
                try (z: ActivationReader(file: file, dataset: group + "/z"),
                     resid: ActivationReader(file: file, dataset: group + "/resid"),
                     attention: ActivationReader(file: file, dataset: group + "/attention"),
                     layout: PromptLayout(file: file, group: group))
            }
        }

        /// The file bytes chunk c reads: z and the residual stream at the answer position, the
        /// attention rows.
        func byteRanges(chunk c: Int) -> [ReadAhead.Range] {
            let chunk = split.chunks[c], reader = readers[chunk.file]
            return reader.z.byteRanges(rows: chunk.rows, firstPositionOnly: true)
                + reader.resid.byteRanges(rows: chunk.rows, firstPositionOnly: true) + reader.attention.byteRanges(rows: chunk.rows)
        }
    }

    /// One worker's buffers, reused over its chunks.
    struct Scratch {
        let z: FloatBufferPool.Lease           // [chunk, L*H*E]
        let resid: FloatBufferPool.Lease       // [chunk, L+1, D]
        let attention: FloatBufferPool.Lease   // [chunk, L*H, T]
        let headOut: FloatBufferPool.Lease     // [chunk, W]
        let headLogits: FloatBufferPool.Lease  // [chunk, L*H, Y]
        let residOut: FloatBufferPool.Lease    // [L+1, W]
    }
}
