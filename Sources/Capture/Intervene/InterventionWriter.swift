import Foundation
import Shared

// Legend: P = rows of a prompt set, S = head sets (ablation), L = layers, H = heads, Y = labels,
// M = clean prompts behind a mean, V = steering vectors, D = d_model.

/// Everything an intervention run writes that is known before its first forward pass: the
/// whole layout of `/interventions/{name}` (DumpLayout.intervention, .interventionSet).
public struct InterventionPlan: Sendable {
    public enum Kind: String, Sendable {
        case ablation, cie, steering
        case fvVsInduction = "fv_vs_induction"
    }

    /// Steering: the vectors as added ("none" first) and the layers.
    public struct Steering: Sendable {
        public let vectorNames: [String]
        /// Per vector: "none", "tr", "tl", "random", ... (TaskVectorFile.Vector.family).
        public let families: [String]
        /// [V, D]
        public let values: [Float]
        public let layers: [Int]
        public let dModel: Int

        public init(vectorNames: [String], families: [String], values: [Float], layers: [Int], dModel: Int) {
            self.vectorNames = vectorNames
            self.families = families
            self.values = values
            self.layers = layers
            self.dModel = dModel
        }
    }

    /// FV vs induction: what each head set is, and how many tokens are generated.
    public struct Comparison: Sendable {
        /// Per head set: "none", "fv", "induction", "fv_excluding_induction", "induction_excluding_fv", "tr", "tl", "random".
        public let families: [String]
        /// Per head set: k of top-k% (0 for "none").
        public let percents: [Float]
        public let newTokens: Int

        public init(families: [String], percents: [Float], newTokens: Int) {
            self.families = families
            self.percents = percents
            self.newTokens = newTokens
        }
    }

    /// One prompt set's results group.
    public struct SetPlan: Sendable {
        public let name: String
        public let rows: Int
        public let labels: Int
        public let classification: Bool
        /// The clean set behind the replacement means, "" for zero ablation.
        public let meanSet: String
        public let meanLeaveOneOut: Bool
        /// prompt_index of the clean rows the mean came from: [M]
        public let meanPromptIndex: [Int32]
        /// Steering: 1 where the row's query is outside vector v's scoring prompts: [P, V]
        public let outsideScoring: [UInt8]

        public init(name: String, rows: Int, labels: Int, classification: Bool, meanSet: String,
                    meanLeaveOneOut: Bool, meanPromptIndex: [Int32], outsideScoring: [UInt8] = []) {
            self.name = name
            self.rows = rows
            self.labels = labels
            self.classification = classification
            self.meanSet = meanSet
            self.meanLeaveOneOut = meanLeaveOneOut
            self.meanPromptIndex = meanPromptIndex
            self.outsideScoring = outsideScoring
        }
    }

    public let name: String
    public let kind: Kind
    /// The run's options as JSON: a rerun resumes only with identical ones.
    public let options: String
    public let definitions: String
    /// Ablation: the head sets, "none" (no heads) first.
    public let headSets: [HeadSet]
    public let sets: [SetPlan]
    public let layers: Int
    public let heads: Int
    public let steering: Steering?
    public let comparison: Comparison?

    public init(name: String, kind: Kind, options: String, definitions: String, headSets: [HeadSet],
                sets: [SetPlan], layers: Int, heads: Int, steering: Steering? = nil, comparison: Comparison? = nil) {
        self.name = name
        self.kind = kind
        self.options = options
        self.definitions = definitions
        self.headSets = headSets
        self.sets = sets
        self.layers = layers
        self.heads = heads
        self.steering = steering
        self.comparison = comparison
    }

    var groupPath: String { "interventions/\(name)" }
}

/// Values of one dataset for consecutive rows, in the dataset's element type.
public enum InterventionValues: Sendable {
    case float32([Float])
    case int32([Int32])
    case uint8([UInt8])
}

/// Adds an intervention run to a captured dump the way the capture writes (docs/methods.md
/// §1.5, METHODS "crash-safe writing"): the run's whole layout, every dataset at full size, is
/// created at once in a new group, in a copy of the dump that then replaces it in one rename
/// (so a kill leaves the old dump or the whole layout); after that only raw rows are written, each
/// batch's `done` flags last. Nothing the capture wrote is modified: the run's dimension
/// scales are its own, so no existing object gains an attribute. A rerun with the same options
/// resumes from the done flags. The dump's checksum file is removed before the first change
/// and written again when every row of the file (capture and interventions) is done.
public final class InterventionWriter {
    private let file: HDF5File
    private let plan: InterventionPlan

    private init(file: HDF5File, plan: InterventionPlan) {
        self.file = file
        self.plan = plan
    }

    /// Whether `dump` already holds a run named `name`, and if so with which options (nil when
    /// it has none: a run killed while its layout was being created). Opens the file read-only.
    public static func existingOptions(dump: String, name: String) throws -> String?? {
        let file = try HDF5File.open(dump, mode: .readOnly)
        defer { try? file.close() }
        let path = "interventions/\(name)"
        guard file.exists(path) else { return .none }
        return .some(try? file.openGroup(path).attribute("options", as: String.self))
    }

    /// Opens `dump` for writing, creates the run's layout unless a run of the same options is
    /// there, and returns the writer with each set's done flags.
    public static func open(dump: String, plan: InterventionPlan, provenance: [String: String],
                            threads: Int) throws -> (InterventionWriter, done: [String: [Bool]]) {
        var file = try HDF5File.open(dump, mode: .readWrite)
        do {
            let exists = file.exists(plan.groupPath)
            if exists {
                let stored = try? file.openGroup(plan.groupPath).attribute("options", as: String.self)
                guard stored == plan.options else {
                    throw InputError(file: dump, "/\(plan.groupPath) holds a run with other options; choose another --name")
                }
            }
            // Rows are about to change: a checksum of the file as it was would be wrong.
            try DumpChecksum.remove(for: dump)
            if !exists {
                try file.close()
                try addLayoutInCopy(dump: dump, plan: plan, provenance: provenance, threads: threads)
                file = try HDF5File.open(dump, mode: .readWrite)
            }
            let writer = InterventionWriter(file: file, plan: plan)
            var done: [String: [Bool]] = [:]
            for set in plan.sets {
                done[set.name] = try file.openDataset("\(plan.groupPath)/sets/\(set.name)/done").read(as: UInt8.self).map { $0 == 1 }
            }
            return (writer, done)
        } catch {
            try? file.close()
            throw error
        }
    }

    /// Creates the run's layout in a copy of `dump`, which then replaces the dump in one rename.
    /// HDF5 writes a new group's metadata into several places of the file; a run killed while
    /// doing so in the dump itself could leave a file that opens but takes no new object. Here
    /// a kill leaves the dump as it was, or with the whole layout.
    private static func addLayoutInCopy(dump: String, plan: InterventionPlan, provenance: [String: String],
                                        threads: Int) throws {
        let staging = dump + ".intervention.partial", manager = FileManager.default
        try? manager.removeItem(atPath: staging)
        do {
            do {
                try manager.copyItem(atPath: dump, toPath: staging)
            } catch {
                throw InputError(file: dump, "cannot copy it to \(staging) to add the run's layout: \(error.localizedDescription)")
            }
            let copy = try HDF5File.open(staging, mode: .readWrite)
            do {
                try InterventionWriter(file: copy, plan: plan).createLayout(provenance: provenance, threads: threads)
                try copy.close()
            } catch {
                try? copy.close()
                throw error
            }
            guard rename(staging, dump) == 0 else {
                throw InputError(file: staging, "cannot rename to \(dump): \(String(cString: strerror(errno)))")
            }
        } catch {
            try? manager.removeItem(atPath: staging)
            throw error
        }
    }

    private func createLayout(provenance: [String: String], threads: Int) throws {
        let run = try file.createGroup(plan.groupPath)
        for (name, value) in provenance { try run.setAttribute(name, value) }
        try run.setAttribute("kind", plan.kind.rawValue)
        try run.setAttribute("options", plan.options)
        try run.setAttribute("definitions", plan.definitions)
        try run.setAttribute("sets", plan.sets.map(\.name))
        try run.setAttribute("format_version", DumpFormat.version)
        try run.setAttribute("threads", threads)
        var scales: [String: HDF5Dataset] = [:]
        scales["layer"] = try run.createDimension("layer", size: plan.layers)
        scales["head"] = try run.createDimension("head", size: plan.heads)
        if plan.kind == .ablation || plan.kind == .fvVsInduction {
            scales["head_set"] = try run.createDimension("head_set", size: plan.headSets.count)
            try make(run, "head_set_name", DumpLayout.intervention, scales).writeStrings(plan.headSets.map(\.name))
            var mask = [UInt8](repeating: 0, count: plan.headSets.count * plan.layers * plan.heads)
            for (s, set) in plan.headSets.enumerated() {
                for head in set.heads { mask[(s * plan.layers + head.layer) * plan.heads + head.head] = 1 }
            }
            try make(run, "head_mask", DumpLayout.intervention, scales).write(mask)
        }
        if let comparison = plan.comparison {
            scales["generated"] = try run.createDimension("generated", size: comparison.newTokens)
            try make(run, "head_set_family", DumpLayout.intervention, scales).writeStrings(comparison.families)
            try make(run, "head_set_percent", DumpLayout.intervention, scales).write(comparison.percents)
        }
        if let steering = plan.steering {
            scales["steer_vector"] = try run.createDimension("steer_vector", size: steering.vectorNames.count)
            scales["steer_layer"] = try run.createDimension("steer_layer", size: steering.layers.count)
            scales["d_model"] = try run.createDimension("d_model", size: steering.dModel)
            try make(run, "steer_vector_name", DumpLayout.intervention, scales).writeStrings(steering.vectorNames)
            try make(run, "steer_vector_family", DumpLayout.intervention, scales).writeStrings(steering.families)
            try make(run, "steer_vector_values", DumpLayout.intervention, scales).write(steering.values)
            try make(run, "steer_layer_index", DumpLayout.intervention, scales).write(steering.layers.map(Int32.init))
        }
        for set in plan.sets {
            let group = try run.createGroup("sets/\(set.name)")
            try group.setAttribute("mean_set", set.meanSet)
            try group.setAttribute("mean_leave_one_out", set.meanLeaveOneOut ? 1 : 0)
            var local = scales
            local["prompt"] = try group.createDimension("prompt", size: set.rows)
            local["label"] = try group.createDimension("label", size: set.labels)
            let names: [String]
            switch plan.kind {
            case .ablation:
                names = ["gold_logprob", "argmax", "correct"] + (set.classification ? ["in_label_set"] : []) + ["label_logits"]
            case .cie:
                names = ["corrupted_gold_prob", "gold_prob", "cie"]
            case .steering:
                names = ["steer_gold_logprob", "steer_argmax", "steer_correct"] + (set.classification ? ["steer_in_label_set"] : [])
                    + ["steer_label_logits"]
            case .fvVsInduction:
                names = ["gold_logprob", "argmax", "correct"] + (set.classification ? ["in_label_set"] : [])
                    + ["label_logits", "generated_ids", "generation_f1"]
            }
            for name in names { _ = try make(group, name, DumpLayout.interventionSet, local) }
            if plan.kind == .steering {
                try make(group, "outside_scoring", DumpLayout.interventionSet, local).write(set.outsideScoring)
            }
            if !set.meanSet.isEmpty {
                local["mean_prompt"] = try group.createDimension("mean_prompt", size: set.meanPromptIndex.count)
                try make(group, "mean_prompt_index", DumpLayout.interventionSet, local).write(set.meanPromptIndex)
            }
            // Space is allocated but never filled: every row is "not done" until written.
            try make(group, "done", DumpLayout.interventionSet, local).write([UInt8](repeating: 0, count: set.rows))
        }
    }

    private func make(_ group: HDF5Group, _ name: String, _ layout: DumpGroup,
                      _ scales: [String: HDF5Dataset]) throws -> HDF5Dataset {
        guard let spec = layout.dataset(name) else { throw InputError(file: file.path, "the layout has no dataset \(name)") }
        let type: HDF5ElementType
        switch spec.type {
        case .activation, .float32: type = .float32
        case .int32: type = .int32
        case .uint8: type = .uint8
        case .string: type = .variableLengthString
        }
        let dimensionScales = spec.dimensions.map { scales[$0]! }
        let dataset = try group.createDataset(name, of: type, shape: dimensionScales.map { $0.shape[0] })
        try dataset.attachDimensionScales(dimensionScales)
        try dataset.setAttribute("description", spec.meaning)
        return dataset
    }

    /// Writes rows `rows` of `set`'s datasets, then marks them done.
    public func write(set: String, rows: Range<Int>, _ values: [String: InterventionValues]) throws {
        let prefix = "\(plan.groupPath)/sets/\(set)/"
        for (name, data) in values.sorted(by: { $0.key < $1.key }) {
            let dataset = try file.openDataset(prefix + name)
            let slab = HDF5Hyperslab.rows(rows, of: dataset.shape)
            switch data {
            case .float32(let array): try dataset.write(array, at: slab)
            case .int32(let array): try dataset.write(array, at: slab)
            case .uint8(let array): try dataset.write(array, at: slab)
            }
        }
        let done = try file.openDataset(prefix + "done")
        try done.write([UInt8](repeating: 1, count: rows.count), at: .rows(rows, of: done.shape))
    }

    /// Closes the dump and, when every row of it is done (the capture's and every
    /// intervention run's), writes its checksum file. Returns whether it did.
    @discardableResult
    public func finish() throws -> Bool {
        let complete = try isComplete()
        try file.close()
        if complete { try DumpChecksum.write(for: file.path) }
        return complete
    }

    private func isComplete() throws -> Bool {
        var groups: [String] = []
        for parent in ["sets", "probes"] where file.exists(parent) {
            groups += try file.openGroup(parent).members(.group).map { "\(parent)/\($0.name)" }
        }
        if file.exists("interventions") {
            for run in try file.openGroup("interventions").members(.group) where file.exists("interventions/\(run.name)/sets") {
                groups += try file.openGroup("interventions/\(run.name)/sets").members(.group).map { "interventions/\(run.name)/sets/\($0.name)" }
            }
        }
        for group in groups {
            if try file.openDataset("\(group)/done").read(as: UInt8.self).contains(where: { $0 != 1 }) { return false }
        }
        return true
    }
}
