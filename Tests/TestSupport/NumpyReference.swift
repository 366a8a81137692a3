import Foundation

/// The independent numpy + h5py implementation of docs/methods.md (reference/analyze_reference.py),
/// run on a dump: its self-test of the dump's invariants, and its comparison with a report
/// (reference/check_analysis.py). Each returns the exit status and the output.
public enum NumpyReference {
    /// `analyze_reference.py DUMP... --self-test`: components add up to the stored label logits,
    /// stored projections equal recomputed ones, the final norm recomputes, attention rows sum to 1.
    public static func selfTest(_ dumps: [String], python: String, out: String) -> (status: Int32, output: String) {
        PythonStack.run(python, [script("analyze_reference.py")] + dumps + ["--out", out, "--self-test"])
    }

    /// `check_analysis.py DUMP... --swift-report DIR --rtol R`: the report's heads, ablation and
    /// per-prompt values against the reference's.
    public static func compare(_ dumps: [String], report: String, python: String,
                               rtol: Double = 1e-5) -> (status: Int32, output: String) {
        PythonStack.run(python, [script("check_analysis.py")] + dumps + ["--swift-report", report, "--rtol", "\(rtol)"])
    }

    private static func script(_ name: String) -> String {
        Fixtures.repositoryRoot.appendingPathComponent("reference/\(name)").path
    }
}
