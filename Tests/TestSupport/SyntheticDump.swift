import Capture
import Foundation
import Shared

/// How far `SyntheticDump.write` has got.
public struct SyntheticDumpProgress: Sendable {
    /// Rows written (set prompts and probe sequences) of all.
    public let rows: Int
    public let totalRows: Int
    /// Bytes of row data written, of all (the file is this plus its static part).
    public let bytes: Int
    public let totalBytes: Int
}

/// Valid icl-heads dumps without a model, for the analyzer's tests and benchmarks.
///
/// The file is made the way `DumpWriter` makes a capture: every group, dimension scale,
/// attribute and (contiguous) dataset of `DumpLayout.groups` is created up front under a
/// temporary name, static datasets filled, the name committed; then rows are written in
/// chunks of prompts (memory stays bounded whatever the file's size) with each chunk's done
/// flags last. The values come from a fake model (`SyntheticForwardPass`) that makes every
/// identity the analyzer relies on hold to fp32 rounding:
/// resid[l + 1] = resid[l] + sum_h z_h @ W_O[l, h] + b_O[l] + MLP term, final_norm_scale =
/// 1/sqrt(mean(resid_final^2) + eps), label_logits = resid_label_logits[answer, resid_final],
/// head and residual label logits per their layout definitions, argmax / top_ids /
/// gold_logprob from the full logits (see `SyntheticVocabularyTable` for dumps without the
/// full unembedding). Some heads behave in known ways: `plantedHeads(of:)`.
public enum SyntheticDump {
    /// Without the full unembedding, the tokens without a stored row share a logit this far
    /// below the prompt's lowest stored logit.
    public static let unstoredLogitGap = SyntheticVocabularyTable.unstoredLogitGap

    public static func plantedHeads(of spec: SyntheticDumpSpec) -> SyntheticPlantedHeads {
        SyntheticPlantedHeads(model: spec.model, seed: spec.seed)
    }

    /// Writes the dump of `spec` to `path`, replacing any file there.
    public static func write(_ spec: SyntheticDumpSpec, to path: String,
                             progress: ((SyntheticDumpProgress) -> Void)? = nil) throws {
        try spec.validate()
        let writer = try SyntheticDumpWriter(spec: spec, path: path)
        do {
            try writer.writeRows(progress: progress)
            try writer.close()
        } catch {
            try? writer.close()
            throw error
        }
    }

    /// The size the file of `spec` will have, about (every dataset at full size; metadata
    /// and the strings' heap overhead estimated).
    public static func estimatedBytes(_ spec: SyntheticDumpSpec) throws -> Int {
        try spec.validate()
        let m = spec.model
        let activation = spec.activationType == .f16 ? 2 : 4
        let rows = spec.fullUnembedding ? m.vocabulary
            : Set(spec.sets.flatMap { SyntheticLabels(set: $0, seed: spec.seed, vocabulary: m.vocabulary).ids }).count
        // Superblock and root, then about 1 KiB of headers and attributes per dataset or dimension.
        let objects = DumpLayout.root.dimensions.count + DumpLayout.model.dimensions.count + DumpLayout.model.datasets.count
            + spec.sets.count * (DumpLayout.promptSet.dimensions.count + DumpLayout.promptSet.datasets.count)
            + (spec.probe == nil ? 0 : DumpLayout.probeSet.dimensions.count + DumpLayout.probeSet.datasets.count)
        var bytes = (64 + objects) * 1024
        bytes += 4 * (m.layers * m.heads * m.dHead * m.dModel + (m.outputBias ? m.layers * m.dModel : 0) + m.heads
                      + m.dModel + rows * (m.dModel + 1))
        let root = rootSizes(m)
        for set in spec.sets {
            let plan = SyntheticSetPlan(set, dump: spec)
            let sizes = root.merging(plan.dimensionSizes) { $1 }
            for dataset in DumpLayout.promptSet.datasets where spec.includes(dataset) {
                let count = dataset.dimensions.reduce(1) { $0 * sizes[$1]! }
                bytes += count * elementBytes(dataset.type, activation: activation)
            }
            bytes += plan.prompts.reduce(0) { $0 + $1.text.utf8.count + $1.goldText.utf8.count }
        }
        if let probe = spec.probe {
            let t = probe.tokenCount
            let sequences = (0..<probe.sequences).filter(spec.shard.contains(promptIndex:)).count
            bytes += sequences * (activation * m.layers * m.heads * t * t + 4 * t + 5)
        }
        return bytes
    }

    static func rootSizes(_ m: SyntheticModelSpec) -> [String: Int] {
        ["layer": m.layers, "head": m.heads, "d_head": m.dHead, "d_model": m.dModel, "resid_layer": m.layers + 1]
    }

    /// Bytes per element; strings count their 16-byte heap reference here.
    static func elementBytes(_ type: DumpValueType, activation: Int) -> Int {
        switch type {
        case .activation: activation
        case .float32, .int32: 4
        case .uint8: 1
        case .string: 16
        }
    }
}
