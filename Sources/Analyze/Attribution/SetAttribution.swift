import Foundation
import Shared

// Legend: P = done prompts of the set (SetRows order), n = L*H heads.

/// Everything attribution patching says about one prompt set (docs/methods.md §20): the
/// per-head estimates behind ablation.csv's atp columns, the first-order CIE of every head on a
/// shuffled-labels set (heads.csv `cie_atp`), and both against the set's exact runs.
public struct SetAttribution: Sendable {
    /// nil when the dump holds no gradients.
    let heads: HeadAttribution?
    /// Shuffled-labels sets: per prompt and head, (clean mean - z_h) . dP/dz_h at the answer
    /// position, P the full-vocabulary gold probability: [P, n]. nil when it cannot be formed.
    let ciePerPrompt: [Double]?
    /// cie_atp: the mean of `ciePerPrompt` over the prompts: [n].
    public let cie: [Double]?
    /// Why a shuffled-labels set has no cie_atp (nil where it has one, and on other sets).
    public let cieUnavailable: String?
    public let truth: AttributionVsTruth

    init(dump: ShardedDump, weights w: DumpWeights, rows: SetRows, metric: GradientMetric?, exact: [ExactAblation],
         exactCIE: ExactCIE?) throws {
        let n = w.layers * w.heads, width = n * w.dHead, p = rows.count
        let shuffled = rows.info.variant == "shuffled_labels"
        let partner = shuffled ? try rows.info.cleanPartner(in: dump) : nil
        var unavailable: String?
        if shuffled {
            if metric == nil {
                unavailable = "the dump holds no gradients (capture with icl-capture run --grads gold-prob or gold-logprob)"
            } else if metric == .labelMargin {
                unavailable = "the dump's gradients are of label-margin, which says nothing about the gold probability the CIE measures (capture with --grads gold-prob or gold-logprob)"
            } else if partner == nil {
                unavailable = "the dump has no clean set of the same task, shots and template to take the mean from"
            }
        }
        guard let metric else {
            heads = nil
            ciePerPrompt = nil
            cie = nil
            cieUnavailable = unavailable
            truth = AttributionVsTruth(metric: nil, attribution: nil, exact: exact, meanIndex: [], exactCIE: exactCIE,
                                       cieEstimate: nil, cieUnavailable: unavailable, rows: rows, headsPerLayer: w.heads)
            return
        }
        // Means: 0 the set's own leave-one-out mean (the direct-effect estimate's), then the
        // clean partner's per file (the CIE's), then each exact mean run's.
        var means = [try ReplacementMean.ownLeaveOneOut(dump: dump, rows: rows, width: width)]
        var cleanIndex: Int?
        if let partner {
            means.append(try .perFile(dump: dump, set: partner, leaveOneOut: false, width: width))
            cleanIndex = means.count - 1
        }
        var meanIndex: [Result<Int, InputError>] = []
        for run in exact {
            guard run.run.mode == "mean" else {
                meanIndex.append(.success(0))
                continue
            }
            do {
                means.append(try .perFile(dump: dump, set: run.meanSet, promptIndex: run.meanPromptIndexByFile,
                                          leaveOneOut: run.meanLeaveOneOut, width: width))
                meanIndex.append(.success(means.count - 1))
            } catch let problem as InputError {
                meanIndex.append(.failure(problem))
            }
        }
        let attribution = try HeadAttribution.run(dump: dump, weights: w, rows: rows, metric: metric, means: means)
        heads = attribution
        if let cleanIndex, unavailable == nil {
            let perPrompt = (0..<(p * n)).map { i in
                metric.probabilityFactor(goldLogprob: rows.goldLogprob[i / n])! * attribution.meanAnswer[cleanIndex][i]
            }
            ciePerPrompt = perPrompt
            cie = (0..<n).map { j in (0..<p).reduce(0.0) { $0 + perPrompt[$1 * n + j] } / Double(p) }
        } else {
            ciePerPrompt = nil
            cie = nil
        }
        cieUnavailable = unavailable
        truth = AttributionVsTruth(metric: metric, attribution: attribution, exact: exact, meanIndex: meanIndex,
                                   exactCIE: exactCIE, cieEstimate: ciePerPrompt, cieUnavailable: unavailable, rows: rows,
                                   headsPerLayer: w.heads)
    }
}
