import Foundation
import Shared

/// The fidelity self-check of `icl-analyze check` (docs/methods.md §13): each step either
/// passes with a line saying what it measured or throws naming the first failure.
public enum DumpCheck {
    public struct Failure: Error, CustomStringConvertible {
        public let check: String
        public let problem: String
        public var description: String { "check failed: \(check): \(problem)" }
    }

    /// Runs every check on the captures in `paths`; `report` receives one line per passed check.
    public static func run(_ paths: [String], report: (String) -> Void) throws {
        for path in paths {
            switch try DumpChecksum.verify(path) {
            case .verified(let digest): report("checksum      \(path): sha256 \(digest.prefix(16))... matches \(DumpChecksum.path(for: path))")
            case .absent: report("checksum      \(path): no \(DumpChecksum.path(for: path)) beside it (not verified)")
            }
        }
        let dumps = try CaptureGroups.open(paths)
        for dump in dumps {
            for file in dump.files {
                try checkLabels(file)
                report("schema        \(file.path): format \(file.formatVersion), every dataset's shape, type and dimension names as the layout says")
            }
            if !dump.missingShards.isEmpty {
                report("shards        \(dump.displayName): partial capture, shards \(dump.missingShards.joined(separator: ", ")) missing")
            }
            let weights = try DumpWeights(file: dump.files[0])
            let f16 = dump.files[0].activationType == .float16
            // Components recomputed from stored activations: fp32 rounding, or that of float16 storage.
            let tolerance: Float = f16 ? 2e-2 : 1e-4
            for name in dump.setNames {
                let rows = try SetRows(dump: dump, set: name)
                let done = rows.donePerFile.reduce(0, +)
                report("done flags    \(name): \(done) of \(rows.rowsInFiles) rows done\(done < rows.rowsInFiles ? " (partial)" : "")")
                guard rows.count > 0 else { continue }
                let space = try LabelSpace(rows: rows, weights: weights, option: .raw, path: dump.files[0].path)
                let scores = try HeadScorePass.run(dump: dump, weights: weights, rows: rows, space: space)
                let relative = scores.componentError / max(scores.logitScale, 1e-6)
                guard relative <= tolerance else {
                    throw Failure(check: "components", problem: "\(name): embedding + heads + biases + MLPs differ from the stored label logits by \(scores.componentError) (\(relative) of the largest logit; tolerance \(tolerance))")
                }
                report("components    \(name): sum of all direct effects = stored label_logits within \(String(format: "%.2e", relative)) of the largest logit")
                let c = KeyCategory.allCases.count
                var worstRow: Float = 0
                for j in 0..<(scores.prompts * scores.headCount) {
                    let total = (0..<c).reduce(Float(0)) { $0 + scores.attention[j * c + $1] }
                    worstRow = max(worstRow, abs(total - 1))
                }
                guard worstRow <= (f16 ? 1e-2 : 1e-3) else {
                    throw Failure(check: "attention rows", problem: "\(name): an answer-position attention row sums to 1 ± \(worstRow)")
                }
                report("attention     \(name): every answer-position row sums to 1 within \(String(format: "%.1e", worstRow))")
                // One distinct label token spans no subspace: TR and TL are undefined by definition (§2).
                let subspaceScores = space.count < 2 ? [] : [("tr_score", scores.meanTR), ("tl_score", scores.meanTL)]
                if space.count < 2 {
                    report("labels        \(name): one distinct label token, so TR and TL are undefined (not a constant score matrix)")
                }
                for (score, values) in subspaceScores + [("dla_gold", scores.meanDLAGold)] {
                    let defined = values.filter { !$0.isNaN }
                    guard let first = defined.first, defined.contains(where: { $0 != first }) else {
                        throw Failure(check: "score matrix", problem: "\(name): every head's \(score) is \(defined.first.map { "\($0)" } ?? "undefined"): a constant score matrix is a bug until shown otherwise")
                    }
                }
                try checkAttentionOutputScale(dump: dump, weights: weights, rows: rows, tolerance: tolerance, report: report)
                try checkStoredProjections(dump: dump, weights: weights, rows: rows, space: space, scores: scores, tolerance: tolerance, report: report)
            }
            for probe in dump.probeNames {
                let induction = try InductionScores.compute(dump: dump, probe: probe)
                guard let first = induction.stripe.first, induction.stripe.contains(where: { $0 != first }) else {
                    // All zero: no head reached the key repeat_length - 1 back, which a sliding
                    // window narrower than that on every layer also does.
                    let cause = induction.stripe.first == 0
                        ? " (0: no head attends to the token \(induction.repeatLength - 1) back; a sliding window of fewer than \(induction.repeatLength) tokens on every layer does this)"
                        : ""
                    throw Failure(check: "score matrix", problem: "\(probe): every head's induction score is the same\(cause)")
                }
                report("induction     \(probe): \(induction.sequences) sequences, scores vary (max stripe \(String(format: "%.3f", induction.stripe.max() ?? 0)))")
            }
        }
    }

    /// Dimension names as HDF5 records them: read only here, after the checksum (a corrupted
    /// label can crash libhdf5).
    static func checkLabels(_ file: DumpFile) throws {
        for (group, paths) in [(DumpLayout.model, ["model"]), (DumpLayout.promptSet, file.setNames.map { "sets/\($0)" }),
                               (DumpLayout.probeSet, file.probeNames.map { "probes/\($0)" })] {
            for path in paths {
                for spec in group.datasets where file.has(path + "/" + spec.name) {
                    let labels = try file.dataset(path + "/" + spec.name).dimensionLabels()
                    guard labels == spec.dimensions.map(Optional.some) else {
                        throw Failure(check: "schema", problem: "\(file.path): /\(path)/\(spec.name) has dimensions \(labels.map { $0 ?? "?" }), expected \(spec.dimensions)")
                    }
                }
            }
        }
    }

    /// attention_output_norm_scale (format 1.4) equals 1/sqrt(mean(o^2)+eps) of the attention
    /// output o = sum_h z_h @ W_O[l, h] that the stored z and the unscaled W_O give.
    static func checkAttentionOutputScale(dump: ShardedDump, weights w: DumpWeights, rows: SetRows, tolerance: Float,
                                          report: (String) -> Void) throws {
        guard let stored = rows.attentionOutputScale else { return }
        let group = "sets/\(rows.info.name)"
        let l = w.layers, h = w.heads, e = w.dHead, d = w.dModel
        let raw: [Float] = try dump.files[0].read("model/W_O")   // [L, H*E, D], without the gain
        var worst: Float = 0
        var output = [Float](repeating: 0, count: d)
        for (slot, location) in rows.locations.enumerated() {
            let z = try dump.files[location.file].dataset(group + "/z").read(as: Float.self, at: HDF5Hyperslab(start: [location.row, 0, 0, 0, 0], count: [1, 1, l, h, e]))
            for layer in 0..<l {
                z.withUnsafeBufferPointer { z in
                    raw.withUnsafeBufferPointer { raw in
                        BLAS.matmul(z.baseAddress! + layer * h * e, lda: h * e, raw.baseAddress! + layer * h * e * d, ldb: d,
                                    &output, ldc: d, m: 1, n: d, k: h * e)
                    }
                }
                let meanSquare = output.reduce(Float(0)) { $0 + $1 * $1 } / Float(d)
                let recomputed = 1 / (meanSquare + w.epsilon).squareRoot()
                worst = max(worst, abs(stored[slot * l + layer] - recomputed) / recomputed)
            }
        }
        guard worst <= tolerance else {
            throw Failure(check: "attention output norm", problem: "\(rows.info.name): attention_output_norm_scale differs from 1/sqrt(mean(o^2)+eps) of the stored z by \(worst) relative")
        }
        report("output norm   \(rows.info.name): stored attention output norm scales = recomputed from z within \(String(format: "%.2e", worst)) relative")
    }

    /// head_label_logits and resid_label_logits (format 1.1) equal what z, resid and the
    /// weights give.
    static func checkStoredProjections(dump: ShardedDump, weights w: DumpWeights, rows: SetRows, space: LabelSpace,
                                       scores: SetScores, tolerance: Float, report: (String) -> Void) throws {
        let group = "sets/\(rows.info.name)"
        guard dump.files.allSatisfy({ $0.has(group + "/head_label_logits") && $0.has(group + "/resid_label_logits") }) else {
            report("projections   \(rows.info.name): not stored (format \(dump.files[0].formatVersion)); computed from z and W_O")
            return
        }
        let labels = rows.info.labelIDs.count, n = scores.headCount, l = scores.layers, d = w.dModel
        var worst: Float = 0
        for (slot, location) in rows.locations.enumerated() {
            let file = dump.files[location.file]
            let heads = try file.dataset(group + "/head_label_logits").read(as: Float.self, at: HDF5Hyperslab(start: [location.row, 0, 0, 0, 0], count: [1, 1, l, scores.heads, labels]))
            let streams = try file.dataset(group + "/resid_label_logits").read(as: Float.self, at: HDF5Hyperslab(start: [location.row, 0, 0, 0], count: [1, 1, l + 1, labels]))
            let resid = try file.dataset(group + "/resid").read(as: Float.self, at: HDF5Hyperslab(start: [location.row, 0, 0, 0], count: [1, 1, l + 1, d]))
            let gold = space.tokens[space.goldIndex[slot]]
            let goldColumn = rows.info.labelIDs.firstIndex(of: gold)!
            for head in 0..<n {
                worst = max(worst, abs(heads[head * labels + goldColumn] - scores.dlaGold[slot * n + head]))
            }
            let scale = rows.finalNormScale[slot]
            for (column, token) in rows.info.labelIDs.enumerated() {
                guard let row = w.row(of: token) else { continue }
                let direction = w.folded(row), constant = w.normBiasLogit(row)
                for r in 0...l {
                    var dot: Float = 0
                    for j in 0..<d { dot += resid[r * d + j] * direction[j] }
                    worst = max(worst, abs(streams[r * labels + column] - (scale * dot + constant)))
                }
            }
            for column in 0..<labels {
                worst = max(worst, abs(streams[l * labels + column] - rows.labelLogits[slot * labels + column]))
            }
        }
        let relative = worst / max(scores.logitScale, 1e-6)
        guard relative <= tolerance else {
            throw Failure(check: "stored projections", problem: "\(rows.info.name): head_label_logits / resid_label_logits differ from the recomputed values by \(worst) (\(relative) of the largest logit)")
        }
        report("projections   \(rows.info.name): stored head and residual label logits = recomputed within \(String(format: "%.2e", relative))")
    }
}
