import Capture
import Foundation
import Shared

// Legend: P = prompts of a set in this file, T = its longest prompt, K = shots, C = captured
// positions, S = probe sequences in this file, N = stored unembedding rows.

/// Creates a synthetic dump's layout (see `SyntheticDump`) and then streams its rows.
final class SyntheticDumpWriter {
    private let spec: SyntheticDumpSpec
    private let model: SyntheticModel
    private let table: SyntheticVocabularyTable
    private let file: HDF5File
    private let activationBytes: Int

    /// Row datasets: created with the layout, filled by `writeRows`.
    private static let setRowDatasets: Set<String> = [
        "z", "resid", "final_norm_scale", "attention_output_norm_scale", "label_logits", "head_label_logits", "resid_label_logits",
        "gold_logprob", "argmax", "top_ids", "top_logits", "attention",
    ]
    private static let probeRowDatasets: Set<String> = ["attention_pattern"]
    /// Rows are computed in chunks of about this many bytes of float32 staging.
    private static let chunkBytes = 32 << 20

    init(spec: SyntheticDumpSpec, path: String) throws {
        self.spec = spec
        model = SyntheticModel(spec: spec.model, seed: spec.seed)
        activationBytes = spec.activationType == .f16 ? 2 : 4
        let labelIDs = Set(spec.sets.flatMap { SyntheticLabels(set: $0, seed: spec.seed, vocabulary: spec.model.vocabulary).ids })
        let ids = spec.fullUnembedding ? Array(0..<Int32(spec.model.vocabulary)) : labelIDs.sorted()
        table = SyntheticVocabularyTable(ids: ids, model: model, topK: spec.topK)
        do {
            file = try HDF5File.create(path, temporaryName: true)
        } catch let error as InputError {
            throw InputError(file: path, error.problem)
        }
        do {
            try createRoot()
            try createModelGroup()
            for set in spec.sets { try createSet(SyntheticSetPlan(set, dump: spec)) }
            if let probe = spec.probe { try createProbe(probe) }
            try file.commitName()
        } catch {
            try? file.close()
            try? FileManager.default.removeItem(atPath: file.path)
            throw error
        }
    }

    func close() throws {
        try file.close()
    }

    // MARK: Layout

    private var rootSizes: [String: Int] { SyntheticDump.rootSizes(spec.model) }

    /// Creates `layout`'s dimensions, attributes and (included) datasets at `path` (nil: the
    /// root), fills the datasets `values` names, and checks that the others are row datasets:
    /// a layout change the synthetic writer does not know about fails here, not in a test.
    private func create(_ layout: DumpGroup, at path: String?, sizes: [String: Int],
                        attributes: [String: any HDF5AttributeConvertible],
                        values: [String: (HDF5Dataset) throws -> Void], rowDatasets: Set<String>) throws {
        let container: any HDF5Container = try path.map { try file.createGroup($0) } ?? file
        let groupPath = path ?? "/"
        var scales: [String: HDF5Dataset] = [:]
        for dimension in DumpLayout.root.dimensions where path != nil {
            scales[dimension.name] = try file.openDataset(dimension.name)
        }
        for dimension in layout.dimensions {
            guard let size = sizes[dimension.name] else {
                throw InputError(file: file.path, "synthetic dump: no size for dimension \(dimension.name) of \(groupPath)")
            }
            scales[dimension.name] = try container.createDimension(dimension.name, size: size)
        }
        for attribute in layout.attributes where DumpFormat.minor(of: attribute.since) <= DumpFormat.minor(of: spec.formatVersion) {
            guard let value = attributes[attribute.name] else {
                throw InputError(file: file.path, "synthetic dump: no value for attribute \(attribute.name) of \(groupPath)")
            }
            try container.setAttribute(attribute.name, value)
        }
        for dataset in layout.datasets where spec.includes(dataset) {
            let type: HDF5ElementType
            switch dataset.type {
            case .activation: type = spec.activationType == .f16 ? .float16 : .float32
            case .float32: type = .float32
            case .int32: type = .int32
            case .uint8: type = .uint8
            case .string: type = .variableLengthString
            }
            let created = try container.createDataset(dataset.name, of: type, shape: dataset.dimensions.map { sizes[$0]! })
            try created.attachDimensionScales(dataset.dimensions.map { scales[$0]! })
            try created.setAttribute("description", dataset.meaning)
            if let fill = values[dataset.name] {
                try fill(created)
            } else if !rowDatasets.contains(dataset.name) {
                throw InputError(file: file.path, "synthetic dump: no values for dataset \(dataset.name) of \(groupPath)")
            }
        }
    }

    private func createRoot() throws {
        let m = spec.model
        let description = "synthetic L\(m.layers) H\(m.heads) KV\(m.kvHeads) E\(m.dHead) D\(m.dModel) V\(m.vocabulary) bias \(m.outputBias) eps \(m.rmsNormEpsilon) seed \(spec.seed)"
        var hasher = SHA256()
        hasher.update(Data(description.utf8))
        let attributes: [String: any HDF5AttributeConvertible] = [
            "format": DumpFormat.name, "format_version": spec.formatVersion, "created": "2000-01-01T00:00:00Z",
            "tool_version": "SyntheticDump", "git_commit": "unknown", "model_path": "synthetic",
            "model_sha256": hasher.finalize(), "model_format": "synthetic", "model_name": description,
            "architecture": "llama", "tokenizer": "synthetic, \(m.vocabulary) tokens",
            "bos_policy": "model default: added",
            "activation_dtype": spec.activationType == .f16 ? "float16" : "float32",
            "shard": spec.shard.description, "capture_config": captureConfiguration.json,
            "definitions": CaptureDefinitions.json, "gradient_metric": "",
        ]
        try create(DumpLayout.root, at: nil, sizes: rootSizes, attributes: attributes, values: [:], rowDatasets: [])
    }

    /// The capture options a real capture of these sets would have had.
    private var captureConfiguration: CaptureConfiguration {
        func distinct<T: Hashable>(_ values: [T]) -> [T] {
            var seen = Set<T>()
            return values.filter { seen.insert($0).inserted }
        }
        return CaptureConfiguration(
            tasks: distinct(spec.sets.map(\.task)),
            variants: distinct(spec.sets.compactMap { PromptVariant(dumpName: $0.variant) }),
            shots: distinct(spec.sets.map(\.shots).filter { $0 > 0 }),
            promptsPerSet: spec.sets.map(\.promptCount).max() ?? 0, seed: spec.seed,
            templates: distinct(spec.sets.map(\.template)), positions: spec.positions,
            probeSequences: spec.probe?.sequences ?? 0, probeLength: spec.probe?.repeatLength ?? 50,
            activationType: spec.activationType, topK: spec.topK, fullUnembedding: spec.fullUnembedding)
    }

    private func createModelGroup() throws {
        let m = spec.model
        let attributes: [String: any HDF5AttributeConvertible] = [
            "vocabulary_size": m.vocabulary, "kv_head_count": m.kvHeads, "rms_norm_epsilon": m.rmsNormEpsilon,
            "tied_embeddings": 1, "final_norm_kind": "rms",
            "attention_output_norm": m.attentionOutputNorm ? "rms" : "none",
        ]
        let model = self.model, ids = table.ids
        var values: [String: (HDF5Dataset) throws -> Void] = [
            "W_O": { try $0.write(model.wO) },
            "kv_head": { try $0.write(model.kvHeads) },
            "final_norm_weight": { try $0.write(model.finalNormWeight) },
            "unembed_ids": { try $0.write(ids) },
            "unembed": { try $0.write(model.unembedding(rows: ids)) },
            // Token texts a reader can tell apart and trace back to their ids.
            "token_text": { try $0.writeStrings((0..<m.vocabulary).map { " t\($0)" }) },
        ]
        if let bias = model.bO { values["b_O"] = { try $0.write(bias) } }
        if let gain = model.outputNormGain { values["attention_output_norm_weight"] = { try $0.write(gain) } }
        let sizes = rootSizes.merging(["unembed_row": ids.count, "vocabulary": m.vocabulary]) { $1 }
        try create(DumpLayout.model, at: "model", sizes: sizes, attributes: attributes, values: values, rowDatasets: [])
    }

    private func createSet(_ plan: SyntheticSetPlan) throws {
        let set = plan.spec, prompts = plan.prompts, t = plan.maxTokens
        let attributes: [String: any HDF5AttributeConvertible] = [
            "task": set.task, "task_kind": set.kind.rawValue, "variant": set.variant, "shots": set.shots,
            "template": set.template, "template_input": SyntheticVocabulary.templateInput,
            "template_output": SyntheticVocabulary.templateOutput,
            "template_separator": SyntheticVocabulary.templateSeparator,
            "seed": Int(truncatingIfNeeded: spec.seed), "prompt_count": set.promptCount,
            "labels": plan.labels.texts, "multi_token_labels": [Int](repeating: 0, count: plan.labels.ids.count),
            "shared_first_token": 0,
        ]
        func padded<T>(_ rows: [[T]], _ fill: T) -> [T] { rows.flatMap { $0 + Array(repeating: fill, count: t - $0.count) } }
        func spans(_ list: [(Int, Int)]) -> [Int32] { list.flatMap { [Int32($0.0), Int32($0.1)] } }
        let values: [String: (HDF5Dataset) throws -> Void] = [
            "prompt_index": { try $0.write(prompts.map { Int32($0.index) }) },
            "text": { try $0.writeStrings(prompts.map(\.text)) },
            "gold_text": { try $0.writeStrings(prompts.map(\.goldText)) },
            "token_ids": { try $0.write(padded(prompts.map(\.tokens), -1)) },
            "token_count": { try $0.write(prompts.map { Int32($0.tokens.count) }) },
            "special_mask": { try $0.write(padded(prompts.map { $0.tokens.map { SyntheticVocabulary.isSpecial($0) ? UInt8(1) : 0 } }, 0)) },
            "demo_input_span": { try $0.write(prompts.flatMap { spans($0.demoInputSpans) }) },
            "demo_output_span": { try $0.write(prompts.flatMap { spans($0.demoOutputSpans) }) },
            "query_span": { try $0.write(spans(prompts.map(\.querySpan))) },
            "positions": { try $0.write(prompts.flatMap { $0.positions.map(Int32.init) }) },
            "label_ids": { try $0.write(plan.labels.ids) },
            "gold": { try $0.write(prompts.map(\.gold)) },
            "gold_token": { try $0.write(prompts.map(\.goldToken)) },
            // Allocated but not yet written: every row is "not done" until its chunk is.
            "done": { try $0.write([UInt8](repeating: 0, count: prompts.count)) },
        ]
        try create(DumpLayout.promptSet, at: "sets/\(plan.name)", sizes: rootSizes.merging(plan.dimensionSizes) { $1 },
                   attributes: attributes, values: values, rowDatasets: Self.setRowDatasets)
    }

    private func createProbe(_ probe: SyntheticProbeSpec) throws {
        let t = probe.tokenCount
        let indices = (0..<probe.sequences).filter(spec.shard.contains(promptIndex:))
        let generator = SyntheticProbe(spec: probe, model: model, seed: spec.seed)
        let attributes: [String: any HDF5AttributeConvertible] = [
            "repeat_length": probe.repeatLength, "bos": probe.bos ? 1 : 0, "seed": Int(truncatingIfNeeded: spec.seed),
        ]
        let values: [String: (HDF5Dataset) throws -> Void] = [
            "prompt_index": { try $0.write(indices.map(Int32.init)) },
            "token_ids": { try $0.write(indices.flatMap(generator.tokens(ofSequence:))) },
            "done": { try $0.write([UInt8](repeating: 0, count: indices.count)) },
        ]
        let sizes = rootSizes.merging(["prompt": indices.count, "query": t, "key": t, "token": t]) { $1 }
        try create(DumpLayout.probeSet, at: "probes/\(probe.name)", sizes: sizes, attributes: attributes, values: values,
                   rowDatasets: Self.probeRowDatasets)
    }

    // MARK: Rows

    /// Stored bytes of one prompt's rows in a set.
    private func rowBytes(_ plan: SyntheticSetPlan) -> Int {
        let sizes = rootSizes.merging(plan.dimensionSizes) { $1 }
        return DumpLayout.promptSet.datasets.filter { Self.setRowDatasets.contains($0.name) && spec.includes($0) }
            .reduce(0) { total, dataset in
                total + dataset.dimensions.dropFirst().reduce(1) { $0 * sizes[$1]! }
                    * SyntheticDump.elementBytes(dataset.type, activation: activationBytes)
            }
    }

    func writeRows(progress: ((SyntheticDumpProgress) -> Void)?) throws {
        let plans = spec.sets.map { SyntheticSetPlan($0, dump: spec) }
        let m = spec.model, heads = m.layers * m.heads
        let probeRows = spec.probe.map { probe in (0..<probe.sequences).filter(spec.shard.contains(promptIndex:)) } ?? []
        let probeBytes = spec.probe.map { activationBytes * heads * $0.tokenCount * $0.tokenCount + 1 } ?? 0
        let totalRows = plans.reduce(0) { $0 + $1.prompts.count } + probeRows.count
        let totalBytes = plans.reduce(0) { $0 + $1.prompts.count * rowBytes($1) } + probeRows.count * probeBytes
        var rows = 0, bytes = 0
        func advance(_ count: Int, _ size: Int) {
            rows += count
            bytes += size
            progress?(SyntheticDumpProgress(rows: rows, totalRows: totalRows, bytes: bytes, totalBytes: totalBytes))
        }
        for plan in plans {
            let perPrompt = rowBytes(plan)
            let chunk = max(1, Self.chunkBytes / max(1, perPrompt * 4 / activationBytes + 4 * table.ids.count))
            let pass = SyntheticForwardPass(
                model: model, setKey: plan.key, seed: spec.seed, positions: plan.positionCount,
                labelRows: plan.labels.ids.flatMap { table.foldedRow(of: $0)! }, labelCount: plan.labels.ids.count,
                table: table, tokenSlots: plan.maxTokens, topK: spec.topK, halves: spec.activationType == .f16,
                labelPushFactor: plan.labelPushFactor)
            for start in stride(from: 0, to: plan.prompts.count, by: chunk) {
                let range = start..<min(start + chunk, plan.prompts.count)
                try writeSetRows(plan, pass, range)
                advance(range.count, range.count * perPrompt)
            }
        }
        if let probe = spec.probe {
            let generator = SyntheticProbe(spec: probe, model: model, seed: spec.seed)
            let chunk = max(1, Self.chunkBytes / max(1, 4 * heads * probe.tokenCount * probe.tokenCount))
            for start in stride(from: 0, to: probeRows.count, by: chunk) {
                let range = start..<min(start + chunk, probeRows.count)
                try writeProbeRows(probe, generator, Array(probeRows[range]), at: range)
                advance(range.count, range.count * probeBytes)
            }
        }
    }

    /// Computes and writes prompts `range` (this file's rows) of a set, done flags last.
    private func writeSetRows(_ plan: SyntheticSetPlan, _ pass: SyntheticForwardPass, _ range: Range<Int>) throws {
        let prompts = Array(plan.prompts[range])
        let rows = pass.run(prompts)
        let done = prompts.map { plan.isDone($0) ? UInt8(1) : 0 }
        for (i, flag) in done.enumerated() where flag == 0 { rows.blank(prompt: i) }
        let group = "sets/\(plan.name)/"
        let included = Set(DumpLayout.promptSet.datasets.filter(spec.includes).map(\.name))
        func write<T: HDF5Element>(_ name: String, _ values: UnsafeMutableBufferPointer<T>) throws {
            guard included.contains(name) else { return }
            let dataset = try file.openDataset(group + name)
            try dataset.write(UnsafeBufferPointer(values), at: .rows(range, of: dataset.shape))
        }
        try write("z", rows.z)
        try write("resid", rows.resid)
        try write("final_norm_scale", rows.finalNormScale)
        try write("attention_output_norm_scale", rows.outputNormScale)
        try write("label_logits", rows.labelLogits)
        try write("head_label_logits", rows.headLabelLogits)
        try write("resid_label_logits", rows.residLabelLogits)
        try write("gold_logprob", rows.goldLogprob)
        try write("argmax", rows.argmax)
        try write("top_ids", rows.topIDs)
        try write("top_logits", rows.topLogits)
        try write("attention", rows.attention)
        let doneSet = try file.openDataset(group + "done")
        try doneSet.write(done, at: .rows(range, of: doneSet.shape))
    }

    private func writeProbeRows(_ probe: SyntheticProbeSpec, _ generator: SyntheticProbe, _ sequences: [Int],
                                at range: Range<Int>) throws {
        var patterns = generator.patterns(ofSequences: sequences)
        let width = patterns.count / sequences.count
        let done = sequences.map { probe.undoneSequences.contains($0) ? UInt8(0) : 1 }
        for (i, flag) in done.enumerated() where flag == 0 {
            for j in (i * width)..<((i + 1) * width) { patterns[j] = .nan }
        }
        let group = "probes/\(probe.name)/"
        let patternSet = try file.openDataset(group + "attention_pattern")
        try patternSet.write(patterns, at: .rows(range, of: patternSet.shape))
        let doneSet = try file.openDataset(group + "done")
        try doneSet.write(done, at: .rows(range, of: doneSet.shape))
    }
}
