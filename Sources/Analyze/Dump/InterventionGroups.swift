import Foundation
import Shared

/// The shape of /interventions (format 1.2, DumpLayout.intervention and .interventionSet) in
/// one file, checked before any value is read: every run's dimension scales, each of its set
/// groups belonging to a captured set of the same rows and labels. DumpFile then checks every
/// dataset's shape and element type against these sizes, as it does for the capture's groups.
enum InterventionGroups {
    struct Group {
        let path: String
        /// true for /interventions/{run}, false for /interventions/{run}/sets/{set}.
        let isRun: Bool
    }

    /// The runs' names, every group to check, and the dimension sizes per group path
    /// ("interventions/<run>", "interventions/<run>/sets/<set>"), given the sizes of the
    /// captured groups (`captured["/"]` the root's, `captured["sets/<set>"]` each set's).
    static func sizes(in file: HDF5File, path: String, captured: [String: [String: Int]],
                      setNames: [String]) throws -> (names: [String], groups: [Group], sizes: [String: [String: Int]]) {
        guard file.exists("interventions") else { return ([], [], [:]) }
        let names = try file.openGroup("interventions").members(.group).map(\.name).sorted()
        let root = captured["/"]!
        var groups: [Group] = [], sizes: [String: [String: Int]] = [:]
        for name in names {
            let run = "interventions/\(name)"
            var runSizes = root
            // The run's own scales: layer and head repeat the root's; head_set only for ablation.
            for dimension in DumpLayout.intervention.dimensions where file.exists("\(run)/\(dimension.name)") {
                let scale = try file.openDataset("\(run)/\(dimension.name)")
                guard scale.shape.count == 1 else {
                    throw InputError(file: path, "dimension /\(run)/\(dimension.name) has shape \(scale.shape), expected one axis")
                }
                if let expected = root[dimension.name], scale.shape[0] != expected {
                    throw InputError(file: path, "dimension /\(run)/\(dimension.name) has \(scale.shape[0]) entries, the dump's model \(expected)")
                }
                runSizes[dimension.name] = scale.shape[0]
            }
            sizes[run] = runSizes
            groups.append(Group(path: run, isRun: true))
            guard let listed = try? file.openGroup(run).attribute("sets", as: [String].self) else {
                throw InputError(file: path, "/\(run) has no string-list attribute sets")
            }
            let present = file.exists("\(run)/sets") ? try file.openGroup("\(run)/sets").members(.group).map(\.name) : []
            guard Set(listed) == Set(present) else {
                throw InputError(file: path, "/\(run) lists sets \(listed.sorted()) but holds \(present.sorted())")
            }
            for set in listed.sorted() {
                let group = "\(run)/sets/\(set)"
                guard setNames.contains(set), let setSizes = captured["sets/\(set)"] else {
                    throw InputError(file: path, "/\(group) belongs to no captured set (/sets/\(set) is missing)")
                }
                var local = runSizes
                for dimension in DumpLayout.interventionSet.dimensions {
                    let scale = "\(group)/\(dimension.name)"
                    guard file.exists(scale) else {
                        // mean_prompt: only runs that take a mean (mean ablation, CIE) write it.
                        if dimension.name == "mean_prompt" { continue }
                        throw InputError(file: path, "dimension /\(scale) is missing")
                    }
                    let shape = try file.openDataset(scale).shape
                    guard shape.count == 1 else { throw InputError(file: path, "dimension /\(scale) has shape \(shape), expected one axis") }
                    local[dimension.name] = shape[0]
                }
                for dimension in ["prompt", "label"] where local[dimension] != setSizes[dimension] {
                    throw InputError(file: path, "dimension /\(group)/\(dimension) has \(local[dimension]!) entries, /sets/\(set) has \(setSizes[dimension] ?? 0)")
                }
                sizes[group] = local
                groups.append(Group(path: group, isRun: false))
            }
        }
        return (names, groups, sizes)
    }
}
