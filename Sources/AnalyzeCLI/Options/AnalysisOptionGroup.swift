import Analyze
import ArgumentParser
import Shared

/// Options shared by the commands that score heads.
struct AnalysisOptionGroup: ParsableArguments {
    @Option(help: "Task subspace: raw (the label rows, as Yang et al.), folded (gamma ⊙ rows) or centred.")
    var subspace: String = "raw"
    @Option(parsing: .unconditional, help: "Top share of heads, e.g. 3% or 0.03 (floor, at least one head).")
    var top: String = "3%"
    @Option(parsing: .unconditional, help: "Compute threads (default: all cores).")
    var threads: Int?

    func validate() throws {
        guard SubspaceOption(rawValue: subspace) != nil else { throw ValidationError("--subspace must be raw, folded or centred") }
        guard (try? fraction()) != nil else { throw ValidationError("--top must be a share like 3% or 0.03, in (0, 1]") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func fraction() throws -> Double {
        let text = top.hasSuffix("%") ? String(top.dropLast()) : top
        guard let value = Double(text) else { throw InputError(file: nil, "--top \(top): not a number") }
        let fraction = top.hasSuffix("%") ? value / 100 : value
        guard fraction > 0, fraction <= 1 else { throw InputError(file: nil, "--top \(top): not in (0, 1]") }
        return fraction
    }

    func options() throws -> AnalysisOptions {
        if let threads { ComputeThreads.set(threads) }
        var options = AnalysisOptions()
        options.subspace = SubspaceOption(rawValue: subspace) ?? .raw
        options.topFraction = try fraction()
        return options
    }
}
