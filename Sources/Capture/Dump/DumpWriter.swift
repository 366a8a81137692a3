import Foundation
import Shared

// Legend: R = prompts in a write, C = captured positions, L = layers, H = heads, E = head_dim,
// D = d_model, T = the set's longest prompt, V = vocabulary, Y = labels of the set.

/// Where the tool that wrote a dump came from; stored in the root attributes.
public struct DumpProvenance: Sendable {
    public var toolVersion: String
    public var gitCommit: String
    public var created: String
    public var modelSHA256: String

    public init(toolVersion: String, gitCommit: String, created: String, modelSHA256: String) {
        self.toolVersion = toolVersion
        self.gitCommit = gitCommit
        self.created = created
        self.modelSHA256 = modelSHA256
    }
}

/// What the forward pass produced for consecutive prompts of one set, staged for writing.
struct CapturedRows {
    var z: [Float] = []                // [R, C, L, H, E]
    var resid: [Float] = []            // [R, C, L + 1, D]
    var finalNormScale: [Float] = []   // [R, C]
    /// Models with a norm on the attention output (Gemma 3), else empty.
    var attentionOutputScale: [Float] = []   // [R, C, L]
    var labelLogits: [Float] = []      // [R, Y]
    var headLabelLogits: [Float] = []  // [R, C, L, H, Y]
    var residLabelLogits: [Float] = [] // [R, C, L + 1, Y]
    var goldLogprob: [Float] = []      // [R]
    var argmax: [Int32] = []           // [R]
    var topIDs: [Int32] = []           // [R, k]
    var topLogits: [Float] = []        // [R, k]
    var attention: [Float] = []        // [R, L, H, T]
    // With --grads (empty otherwise):
    var gradMetric: [Float] = []            // [R]
    var gradZ: [Float] = []                 // [R, C, L, H, E]
    var gradResid: [Float] = []             // [R, C, L + 1, D]
    var gradZPositionSum: [Float] = []      // [R, L, H, E]
    var headZgradAnswer: [Float] = []       // [R, L, H]
    var headZgradAllPositions: [Float] = [] // [R, L, H]
}

/// Writes a dump the crash-safe way (docs/methods.md): the whole layout, at full size and
/// with every static dataset filled, is created under a temporary name, flushed and renamed;
/// after that only raw rows are written, each batch's `done` flags last. The checksum file
/// (`DumpChecksum`) exists only beside a dump whose every row is done: creating or resuming
/// removes a stale one, `finish` writes it.
public final class DumpWriter {
    public var path: String { file.path }
    private let file: HDF5File

    private init(file: HDF5File) {
        self.file = file
    }

    // MARK: Creating

    public static func create(path: String, plan: CapturePlan, model: LoadedModel,
                              configuration: CaptureConfiguration, shard: Shard,
                              provenance: DumpProvenance, definitions: String) throws -> DumpWriter {
        try checkFreeSpace(for: path, bytes: estimatedSize(plan: plan, model: model, configuration: configuration))
        let file: HDF5File
        do {
            file = try HDF5File.create(path, temporaryName: true)
        } catch let error as InputError {
            // The user named `path`; the temporary name is an implementation detail.
            throw InputError(file: path, error.problem)
        }
        let writer = DumpWriter(file: file)
        do {
            try writer.createRoot(plan: plan, model: model, configuration: configuration, shard: shard,
                                  provenance: provenance, definitions: definitions)
            try writer.createModelGroup(plan: plan, model: model, configuration: configuration)
            for set in plan.sets { try writer.createSet(set, configuration: configuration, model: model) }
            for probe in plan.probes { try writer.createProbe(probe, configuration: configuration) }
            try DumpChecksum.remove(for: path)
            try file.commitName()
        } catch {
            try? file.close()
            try? FileManager.default.removeItem(atPath: file.path)
            throw error
        }
        return writer
    }

    /// Bytes the finished dump takes, about: every dataset at full size plus room for
    /// metadata. The layout reserves all of it up front, but file systems allocate the space
    /// only as rows arrive.
    static func estimatedSize(plan: CapturePlan, model: LoadedModel, configuration c: CaptureConfiguration) -> Int {
        let m = model.config
        let a = c.activationType == .f16 ? 2 : 4
        let l = m.layerCount, h = m.headCount, e = m.headDim, d = m.hiddenSize
        let unembedRows = c.fullUnembedding ? m.vocabularySize : plan.unembeddingIDs.count
        var bytes = 1 << 20   // metadata, attributes, the global heap's overhead
        bytes += 4 * (l * h * e * d + l * d + h + d + unembedRows * (d + 1))
        bytes += (0..<Int32(m.vocabularySize)).reduce(0) { $0 + model.tokenizer.tokenText($1).utf8.count + 32 }
        for set in plan.sets {
            let prompts = set.tokens.count, t = set.maxTokens, positions = set.positionCount
            bytes += prompts * a * (positions * (l * h * e + (l + 1) * d) + l * h * t)          // z, resid, attention
            if c.grads != nil {
                bytes += prompts * (a * positions * (l * h * e + (l + 1) * d) + 4 * (2 * l * h + 1))  // grad_*
            }
            bytes += prompts * 4 * positions * (l * h + l + 1) * set.labelIDs.count              // label projections
            bytes += prompts * (5 * t + 16 * (set.shots + 1) + 8 * positions + 4 * set.labelIDs.count
                                + 8 * c.topK + 32)                                            // the small rows
            bytes += set.promptSet.prompts.reduce(0) { $0 + $1.text.utf8.count + $1.goldOutput.utf8.count + 32 }
        }
        for probe in plan.probes {
            let t = probe.tokens.map(\.count).max() ?? 0
            bytes += probe.tokens.count * (a * l * h * t * t + 4 * t + 1)
        }
        return bytes
    }

    /// Refuses to start a dump that cannot fit: a full disk found hours into a capture, or
    /// while the layout is written, is worse than no start. Skipped where the file system
    /// cannot be asked (the folder's absence is reported when the file is created).
    static func checkFreeSpace(for path: String, bytes: Int) throws {
        let folder = (path as NSString).deletingLastPathComponent
        var stats = statvfs()
        guard statvfs(folder.isEmpty ? "." : folder, &stats) == 0, stats.f_blocks > 0 else { return }
        let free = Int(stats.f_bavail) * Int(stats.f_frsize)
        guard free < bytes else { return }
        func size(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1e6) }
        throw InputError(file: path, "the dump needs about \(size(bytes)) but its file system has \(size(free)) free")
    }

    private var rootSizes: [String: Int] = [:]

    private func createRoot(plan: CapturePlan, model: LoadedModel, configuration c: CaptureConfiguration,
                            shard: Shard, provenance: DumpProvenance, definitions: String) throws {
        let m = model.config
        rootSizes = ["layer": m.layerCount, "head": m.headCount, "d_head": m.headDim, "d_model": m.hiddenSize,
                     "resid_layer": m.layerCount + 1]
        for dimension in DumpLayout.root.dimensions {
            _ = try file.createDimension(dimension.name, size: rootSizes[dimension.name]!)
        }
        let bos: String
        switch c.bos {
        case nil: bos = model.tokenizer.addsBOSByDefault ? "model default: added" : "model default: not added"
        case true?: bos = "forced on"
        case false?: bos = "forced off"
        }
        let attributes: [String: String] = [
            "format": DumpFormat.name, "format_version": DumpFormat.version, "created": provenance.created,
            "tool_version": provenance.toolVersion, "git_commit": provenance.gitCommit, "model_path": model.path,
            "model_sha256": provenance.modelSHA256, "model_format": model.format.rawValue,
            "model_name": model.name ?? "", "architecture": m.architecture.rawValue,
            "tokenizer": model.tokenizer.summary, "bos_policy": bos,
            "activation_dtype": c.activationType == .f16 ? "float16" : "float32",
            "shard": shard.description, "capture_config": c.json, "definitions": definitions,
            "gradient_metric": c.grads?.rawValue ?? "",
        ]
        for (name, value) in attributes { try file.setAttribute(name, value) }
    }

    private func createModelGroup(plan: CapturePlan, model: LoadedModel, configuration c: CaptureConfiguration) throws {
        let m = model.config, w = model.transformer.weights
        let group = try file.createGroup("model")
        let unembedIDs = c.fullUnembedding ? (0..<Int32(m.vocabularySize)).map { $0 } : plan.unembeddingIDs
        let sizes = rootSizes.merging(["unembed_row": unembedIDs.count, "vocabulary": m.vocabularySize]) { $1 }
        var scales = try rootScales()
        for dimension in DumpLayout.model.dimensions {
            scales[dimension.name] = try group.createDimension(dimension.name, size: sizes[dimension.name]!)
        }
        try group.setAttribute("vocabulary_size", m.vocabularySize)
        try group.setAttribute("kv_head_count", m.kvHeadCount)
        try group.setAttribute("rms_norm_epsilon", Double(m.normEpsilon))
        try group.setAttribute("tied_embeddings", m.tiedEmbeddings ? 1 : 0)
        try group.setAttribute("final_norm_kind", m.architecture.normalization.rawValue)
        try group.setAttribute("attention_output_norm", m.architecture.normsBlockOutputs ? "rms" : "none")

        let d = m.hiddenSize, width = m.attentionWidth
        for spec in DumpLayout.model.datasets {
            if spec.name == "b_O" && !m.attentionOutputBias { continue }
            if spec.name == "final_norm_bias" && w.finalNormBias == nil { continue }
            if spec.name == "attention_output_norm_weight" && !m.architecture.normsBlockOutputs { continue }
            let dataset = try makeDataset(in: group, spec, sizes: sizes, scales: scales, activation: .f32)
            switch spec.name {
            case "W_O":
                // W_O[l, h, e, d] = o_proj.weight[d, h * E + e]
                var wO = [Float](repeating: 0, count: m.layerCount * width * d)
                for (l, layer) in w.layers.enumerated() {
                    for row in 0..<d { for column in 0..<width { wO[(l * width + column) * d + row] = layer.output[row * width + column] } }
                }
                try dataset.write(wO)
            case "b_O":
                try dataset.write(w.layers.flatMap { $0.outputBias!.array })
            case "kv_head":
                try dataset.write((0..<m.headCount).map { Int32(m.kvHead(forQueryHead: $0)) })
            case "attention_output_norm_weight":
                try dataset.write(w.layers.flatMap { $0.attentionOutputNorm!.array })
            case "final_norm_weight":
                try dataset.write(w.finalNorm.array)
            case "final_norm_bias":
                try dataset.write(w.finalNormBias!.array)
            case "unembed_ids":
                try dataset.write(unembedIDs)
            case "unembed":
                var rows = [Float](repeating: 0, count: unembedIDs.count * d)
                for (i, id) in unembedIDs.enumerated() {
                    for j in 0..<d { rows[i * d + j] = w.unembedding[Int(id) * d + j] }
                }
                try dataset.write(rows)
            case "token_text":
                try dataset.writeStrings((0..<Int32(m.vocabularySize)).map(model.tokenizer.tokenText))
            default:
                throw InputError(file: file.path, "the writer has no values for /model/\(spec.name)")
            }
        }
    }

    private func rootScales() throws -> [String: HDF5Dataset] {
        var scales: [String: HDF5Dataset] = [:]
        for dimension in DumpLayout.root.dimensions { scales[dimension.name] = try file.openDataset(dimension.name) }
        return scales
    }

    private func makeDataset(in group: HDF5Group, _ spec: DumpDataset, sizes: [String: Int],
                             scales: [String: HDF5Dataset],
                             activation: CaptureConfiguration.ActivationType) throws -> HDF5Dataset {
        let type: HDF5ElementType
        switch spec.type {
        case .activation: type = activation == .f16 ? .float16 : .float32
        case .float32: type = .float32
        case .int32: type = .int32
        case .uint8: type = .uint8
        case .string: type = .variableLengthString
        }
        let dataset = try group.createDataset(spec.name, of: type, shape: spec.dimensions.map { sizes[$0]! })
        try dataset.attachDimensionScales(spec.dimensions.map { scales[$0]! })
        try dataset.setAttribute("description", spec.meaning)
        return dataset
    }

    private func createSet(_ set: PlannedSet, configuration c: CaptureConfiguration, model: LoadedModel) throws {
        let group = try file.createGroup("sets/\(set.name)")
        let prompts = set.tokens.count, t = set.maxTokens, shots = set.shots
        let sizes = rootSizes.merging(["prompt": prompts, "token": t, "position": set.positionCount, "shot": shots,
                                       "label": set.labelIDs.count, "top": c.topK, "bound": 2]) { $1 }
        var scales = try rootScales()
        for dimension in DumpLayout.promptSet.dimensions {
            scales[dimension.name] = try group.createDimension(dimension.name, size: sizes[dimension.name]!)
        }
        let spec = set.promptSet.spec, template = set.promptSet.template
        try group.setAttribute("task", spec.task)
        try group.setAttribute("task_kind", set.kind.rawValue)
        try group.setAttribute("variant", spec.variant.dumpName)
        try group.setAttribute("shots", shots)
        try group.setAttribute("template", template.name)
        try group.setAttribute("template_input", template.input)
        try group.setAttribute("template_output", template.output)
        try group.setAttribute("template_separator", template.separator)
        try group.setAttribute("seed", Int(truncatingIfNeeded: spec.seed))
        try group.setAttribute("prompt_count", spec.count)
        try group.setAttribute("labels", set.labelTexts)
        try group.setAttribute("multi_token_labels", set.multiTokenLabels)
        try group.setAttribute("shared_first_token", set.sharedFirstToken ? 1 : 0)

        var datasets: [String: HDF5Dataset] = [:]
        for dataset in DumpLayout.promptSet.datasets {
            if DumpLayout.gradientDatasets.contains(dataset.name) && c.grads == nil { continue }
            if dataset.name == "attention_output_norm_scale" && !model.config.architecture.normsBlockOutputs { continue }
            datasets[dataset.name] = try makeDataset(in: group, dataset, sizes: sizes, scales: scales,
                                                     activation: c.activationType)
        }
        let promptList = set.promptSet.prompts
        try datasets["prompt_index"]!.write(promptList.map { Int32($0.index) })
        try datasets["text"]!.writeStrings(promptList.map(\.text))
        try datasets["gold_text"]!.writeStrings(promptList.map(\.goldOutput))
        try datasets["token_ids"]!.write(set.tokens.flatMap { $0 + Array(repeating: -1, count: t - $0.count) })
        try datasets["token_count"]!.write(set.tokens.map { Int32($0.count) })
        try datasets["special_mask"]!.write(set.specialMasks.flatMap { $0 + Array(repeating: 0, count: t - $0.count) })
        func spans(_ list: [[(Int, Int)]]) -> [Int32] { list.flatMap { $0.flatMap { [Int32($0.0), Int32($0.1)] } } }
        try datasets["demo_input_span"]!.write(spans(set.demoInputSpans))
        try datasets["demo_output_span"]!.write(spans(set.demoOutputSpans))
        try datasets["query_span"]!.write(spans([set.querySpans]))
        try datasets["positions"]!.write(set.positions.flatMap { $0.map(Int32.init) })
        try datasets["label_ids"]!.write(set.labelIDs)
        try datasets["gold"]!.write(set.gold)
        try datasets["gold_token"]!.write(set.goldTokens)
        // Space is allocated but never filled: every row is "not done" until written.
        try datasets["done"]!.write([UInt8](repeating: 0, count: prompts))
    }

    private func createProbe(_ probe: PlannedProbe, configuration c: CaptureConfiguration) throws {
        let group = try file.createGroup("probes/\(probe.name)")
        let t = probe.tokens.map(\.count).max() ?? 0
        let sizes = rootSizes.merging(["prompt": probe.tokens.count, "query": t, "key": t, "token": t]) { $1 }
        var scales = try rootScales()
        for dimension in DumpLayout.probeSet.dimensions {
            scales[dimension.name] = try group.createDimension(dimension.name, size: sizes[dimension.name]!)
        }
        try group.setAttribute("repeat_length", probe.repeatLength)
        try group.setAttribute("bos", probe.hasBOS ? 1 : 0)
        try group.setAttribute("seed", Int(truncatingIfNeeded: probe.seed))
        var datasets: [String: HDF5Dataset] = [:]
        for dataset in DumpLayout.probeSet.datasets {
            datasets[dataset.name] = try makeDataset(in: group, dataset, sizes: sizes, scales: scales,
                                                     activation: c.activationType)
        }
        try datasets["prompt_index"]!.write(probe.promptIndices.map(Int32.init))
        try datasets["token_ids"]!.write(probe.tokens.flatMap { $0 + Array(repeating: -1, count: t - $0.count) })
        try datasets["done"]!.write([UInt8](repeating: 0, count: probe.tokens.count))
    }

    // MARK: Resuming

    /// Reopens a dump that `create` made with the same configuration and shard (and, when
    /// `modelSHA256` is given, from the same model files), and returns it with each group's
    /// done flags (keyed by set or probe name).
    public static func resume(path: String, plan: CapturePlan, configuration: CaptureConfiguration,
                              shard: Shard, modelSHA256: String? = nil) throws -> (DumpWriter, done: [String: [Bool]]) {
        let file = try HDF5File.open(path, mode: .readWrite)
        // Another format lacks or misplaces datasets this writer fills.
        let format = try? file.attribute("format_version", as: String.self)
        guard format == DumpFormat.version else {
            let found = format.map { "is a dump of format \($0)" } ?? "has no format_version"
            throw InputError(file: path, "\(found); --resume continues only dumps of format \(DumpFormat.version): capture it again")
        }
        let stored = try file.attribute("capture_config", as: String.self)
        guard stored == configuration.json else {
            throw InputError(file: path, "was captured with other options; --resume needs the same ones (stored: \(stored))")
        }
        let storedShard = try file.attribute("shard", as: String.self)
        guard storedShard == shard.description else {
            throw InputError(file: path, "holds shard \(storedShard), not \(shard)")
        }
        // The options do not name the model: rows of another one would be mixed in silently.
        let storedModel = try file.attribute("model_sha256", as: String.self)
        if let modelSHA256, storedModel != modelSHA256 {
            let storedPath = (try? file.attribute("model_path", as: String.self)) ?? "?"
            throw InputError(file: path, "was captured from another model (\(storedPath), sha256 \(storedModel.prefix(12))...), not this one (sha256 \(modelSHA256.prefix(12))...); --resume needs the same model")
        }
        // Nor do they fix the task files' contents: the prompts must be the ones stored.
        for (name, tokens) in plan.sets.map({ ("sets/\($0.name)", $0.tokens) }) + plan.probes.map({ ("probes/\($0.name)", $0.tokens) }) {
            let t = tokens.map(\.count).max() ?? 0
            let expected = tokens.flatMap { $0 + Array(repeating: -1, count: t - $0.count) }
            let stored = file.exists(name + "/token_ids") ? try file.openDataset(name + "/token_ids") : nil
            guard let stored, stored.shape == [tokens.count, t], try stored.read(as: Int32.self) == expected else {
                throw InputError(file: path, "\(name) does not hold the prompts the task files and tokenizer give now; --resume needs the same ones")
            }
        }
        var done: [String: [Bool]] = [:]
        for set in plan.sets { done[set.name] = try file.openDataset("sets/\(set.name)/done").read(as: UInt8.self).map { $0 == 1 } }
        for probe in plan.probes { done[probe.name] = try file.openDataset("probes/\(probe.name)/done").read(as: UInt8.self).map { $0 == 1 } }
        // Rows are about to change: a checksum of the file as it was would be wrong.
        try DumpChecksum.remove(for: path)
        return (DumpWriter(file: file), done)
    }

    // MARK: Writing rows

    /// Writes the rows of prompts `rows` of `set`, then marks them done.
    func write(set: PlannedSet, rows: Range<Int>, _ data: CapturedRows) throws {
        let group = "sets/\(set.name)/"
        func write<T: HDF5Element>(_ name: String, _ values: [T]) throws {
            let dataset = try file.openDataset(group + name)
            try dataset.write(values, at: .rows(rows, of: dataset.shape))
        }
        try write("z", data.z)
        try write("resid", data.resid)
        try write("final_norm_scale", data.finalNormScale)
        if !data.attentionOutputScale.isEmpty { try write("attention_output_norm_scale", data.attentionOutputScale) }
        try write("label_logits", data.labelLogits)
        try write("head_label_logits", data.headLabelLogits)
        try write("resid_label_logits", data.residLabelLogits)
        try write("gold_logprob", data.goldLogprob)
        try write("argmax", data.argmax)
        try write("top_ids", data.topIDs)
        try write("top_logits", data.topLogits)
        try write("attention", data.attention)
        if !data.gradZ.isEmpty {
            try write("grad_metric", data.gradMetric)
            try write("grad_z", data.gradZ)
            try write("grad_resid", data.gradResid)
            try write("grad_z_position_sum", data.gradZPositionSum)
            try write("head_zgrad_answer", data.headZgradAnswer)
            try write("head_zgrad_all_positions", data.headZgradAllPositions)
        }
        try write("done", [UInt8](repeating: 1, count: rows.count))
    }

    /// Writes the attention patterns of probe prompts `rows` ([R, L, H, T, T]), then marks them done.
    func write(probe: PlannedProbe, rows: Range<Int>, patterns: [Float]) throws {
        let group = "probes/\(probe.name)/"
        let patternSet = try file.openDataset(group + "attention_pattern")
        try patternSet.write(patterns, at: .rows(rows, of: patternSet.shape))
        let done = try file.openDataset(group + "done")
        try done.write([UInt8](repeating: 1, count: rows.count), at: .rows(rows, of: done.shape))
    }

    public func close() throws {
        try file.close()
    }

    /// Closes the dump and, when every row of every set and probe is done, writes its checksum
    /// file. Returns whether it did.
    @discardableResult
    public func finish() throws -> Bool {
        let complete = try isComplete()
        try file.close()
        if complete { try DumpChecksum.write(for: file.path) }
        return complete
    }

    private func isComplete() throws -> Bool {
        for parent in ["sets", "probes"] where file.exists(parent) {
            let container = try file.openGroup(parent)
            for member in try container.members() {
                let flags = try container.openGroup(member.name).openDataset("done").read(as: UInt8.self)
                if flags.contains(where: { $0 != 1 }) { return false }
            }
        }
        return true
    }
}
