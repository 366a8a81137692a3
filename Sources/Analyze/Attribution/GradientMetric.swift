import Foundation
import Shared

/// The metric M whose gradients a dump holds (root attribute `gradient_metric`, docs/methods.md
/// §19.1), and how each side of an attribution-patching comparison expresses it (§20).
public enum GradientMetric: String, Sendable, CaseIterable, Codable {
    case goldLogprob = "gold-logprob"
    case goldProb = "gold-prob"
    case labelMargin = "label-margin"

    /// The name of M in column names: gold_logprob, gold_prob, label_margin.
    public var column: String { rawValue.replacingOccurrences(of: "-", with: "_") }

    /// The metric of the dump's capture: nil when it holds no gradients (earlier formats lack
    /// the attribute). Every file of a capture has the same one (it is part of capture_config).
    static func of(_ dump: ShardedDump) throws -> GradientMetric? {
        let stored = dump.files[0].rootAttribute("gradient_metric") ?? ""
        guard !stored.isEmpty else { return nil }
        guard let metric = GradientMetric(rawValue: stored) else {
            throw InputError(file: dump.files[0].path, "root attribute gradient_metric is \"\(stored)\", expected gold-logprob, gold-prob, label-margin or \"\"")
        }
        return metric
    }

    /// M of one prompt from an exact run's results: the full-vocabulary gold log-probability
    /// and the logits of the set's distinct label first tokens (`labels`: [Y'+1] with the gold
    /// token among them, `goldToken` the prompt's). label-margin: gold logit minus the mean of
    /// the other labels' (§19.1).
    func value(goldLogprob: Double, labelLogits: [(token: Int32, logit: Double)], goldToken: Int32) -> Double {
        switch self {
        case .goldLogprob: return goldLogprob
        case .goldProb: return exp(goldLogprob)
        case .labelMargin:
            guard let gold = labelLogits.first(where: { $0.token == goldToken }) else { return .nan }
            let others = labelLogits.filter { $0.token != goldToken }
            guard !others.isEmpty else { return .nan }
            return gold.logit - others.reduce(0) { $0 + $1.logit } / Double(others.count)
        }
    }

    /// Factor that turns a first-order change of M into one of the gold probability P (the
    /// CIE's metric): 1 for gold-prob, P for gold-logprob (dP = P dlogP); nil for label-margin,
    /// whose gradient says nothing about P.
    func probabilityFactor(goldLogprob: Float) -> Double? {
        switch self {
        case .goldProb: return 1
        case .goldLogprob: return exp(Double(goldLogprob))
        case .labelMargin: return nil
        }
    }
}
