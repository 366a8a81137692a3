import Foundation
import Shared

// Legend: P = done prompts of a set (SetRows order), n = L*H heads, S = head sets of a run.

/// The attribution-patching estimates (docs/methods.md §20) next to the exact interventions of
/// the same set (§14), prompt by prompt: every head set of every ablation run, with the run's
/// own replacement (zero, or its mean with its `mean_prompt_index` per file) at the run's
/// positions, and the CIE of every head. The exact side is M of the dump's gradients computed
/// from the run's results (§20.3).
public struct AttributionVsTruth: Sendable {
    /// One head set of one ablation run: each prompt's change of M from the unablated model.
    public struct HeadSetPairs: Sendable {
        public let run: String
        public let mode: String
        public let positions: String
        public let headSet: HeadSet
        public let estimated: [Double]     // [P]
        public let exact: [Double]         // [P], NaN where the run did not finish the prompt
    }

    /// Per prompt and head of a CIE run: cie_atp's summands against the exact CIE.
    public struct CIEPairs: Sendable {
        public let run: String
        public let estimated: [Double]     // [P, n]
        public let exact: [Double]         // [P, n], NaN where the run did not finish the prompt
    }

    public let metric: GradientMetric?
    public let pairs: [HeadSetPairs]
    public let cie: CIEPairs?
    public let skipped: [EstimateVsTruth.Skipped]

    /// The exact side's name of M: the column names of estimate_vs_truth.csv.
    public static func exactMetricName(_ metric: GradientMetric) -> String {
        switch metric {
        case .goldLogprob: return "gold_logprob_vocab"
        case .goldProb: return "gold_prob_vocab"
        case .labelMargin: return "label_margin"
        }
    }

    /// `meanIndex[r]`: the index in `attribution.meanAnswer` of run r's mean (mean runs; zero
    /// runs hold anything), or why the mean could not be rebuilt;
    /// `cieProbability`: per prompt and head the first-order CIE (nil when it cannot be formed).
    init(metric: GradientMetric?, attribution: HeadAttribution?, exact: [ExactAblation], meanIndex: [Result<Int, InputError>],
         exactCIE: ExactCIE?, cieEstimate: [Double]?, cieUnavailable: String?, rows: SetRows, headsPerLayer h: Int) {
        self.metric = metric
        guard let metric, let attribution else {
            let reason = "the dump holds no gradients (capture with icl-capture run --grads)"
            skipped = exact.map { EstimateVsTruth.Skipped(run: $0.run.name, estimate: "attribution_patching", reason: reason) }
                + (exactCIE.map { [EstimateVsTruth.Skipped(run: $0.run.name, estimate: "attribution_patching", reason: reason)] } ?? [])
            pairs = []
            cie = nil
            return
        }
        var pairs: [HeadSetPairs] = [], skipped: [EstimateVsTruth.Skipped] = []
        let p = rows.count
        // The set's distinct label_ids columns: the label logits label-margin reads.
        var columns: [(token: Int32, column: Int)] = []
        for (column, token) in rows.info.labelIDs.enumerated() where !columns.contains(where: { $0.token == token }) {
            columns.append((token, column))
        }
        let width = rows.info.labelIDs.count
        for (r, run) in exact.enumerated() {
            let all = run.run.positions == "all"
            let perHead: [Double]?
            var reason = "mean ablation at every position needs grad_z_position_sum (dumps of format 1.3 captured with --grads)"
            switch (run.run.mode, meanIndex[r]) {
            case ("zero", _): perHead = all ? attribution.zeroAll : attribution.zeroAnswer
            case (_, .success(let k)): perHead = all ? attribution.meanAll[k] : attribution.meanAnswer[k]
            case (_, .failure(let problem)):
                perHead = nil
                reason = "its mean cannot be rebuilt from the dump: \(problem.description)"
            }
            guard let perHead else {
                skipped.append(.init(run: run.run.name, estimate: "attribution_patching", reason: reason))
                continue
            }
            let s = run.headSetCount
            func value(_ prompt: Int, _ set: Int) -> Double {
                let row = (prompt * s + set) * width
                return metric.value(goldLogprob: Double(run.goldLogprob[prompt * s + set]),
                                    labelLogits: columns.map { ($0.token, Double(run.labelLogits[row + $0.column])) },
                                    goldToken: rows.goldToken[prompt])
            }
            for set in 1..<s {
                let headSet = run.run.headSets[set]
                let estimated = attribution.headSet(headSet.heads, of: perHead, headsPerLayer: h)
                let exactDelta = (0..<p).map { run.done[$0] ? value($0, set) - value($0, 0) : .nan }
                pairs.append(HeadSetPairs(run: run.run.name, mode: run.run.mode ?? "", positions: run.run.positions ?? "",
                                          headSet: headSet, estimated: estimated, exact: exactDelta))
            }
        }
        if let exactCIE {
            if let cieEstimate {
                let n = attribution.heads
                let exactValues = (0..<(p * n)).map { exactCIE.done[$0 / n] ? Double(exactCIE.cie[$0]) : .nan }
                cie = CIEPairs(run: exactCIE.run.name, estimated: cieEstimate, exact: exactValues)
            } else {
                cie = nil
                skipped.append(.init(run: exactCIE.run.name, estimate: "attribution_patching", reason: cieUnavailable ?? ""))
            }
        } else {
            cie = nil
        }
        self.pairs = pairs
        self.skipped = skipped
    }
}
