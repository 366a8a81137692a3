import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// Researchers read dumps from Python: Tests/Python/test_dump.py (h5py, xarray with engine
/// h5netcdf, numpy) runs on a float32 and a float16 capture of the same prompts, and on both
/// again with --grads. The float16 capture also has to be the float32 one rounded to nearest,
/// value by value.
final class DumpPythonTests: XCTestCase {
    static let options = ["--tasks", "sentiment,antonym", "--shots", "2", "--n", "4",
                          "--variants", "clean,shuffled-labels,zero-shot", "--positions", "labels",
                          "--probe-sequences", "2", "--probe-length", "12", "--seed", "3"]
    private var scratch: ScratchDirectory!

    override func setUpWithError() throws {
        try CaptureTool.skipUnlessBuilt()
        scratch = try ScratchDirectory("python")
    }

    override func tearDown() {
        scratch?.remove()
        super.tearDown()
    }

    /// With --grads the full vocabulary's unembedding is stored, so that Python can redo the
    /// metric's gradient through the final norm.
    static let gradientOptions = ["--grads", "gold-logprob", "--full-unembed"]

    private func capture(dtype: String, _ extra: [String] = []) throws -> String {
        let path = scratch.path("dump-\(dtype)\(extra.isEmpty ? "" : "-grads").h5")
        let outcome = try CaptureTool.capture(Self.options + extra + ["--dtype", dtype], out: path)
        XCTAssertTrue(outcome.succeeded, "\(outcome)")
        return path
    }

    func testPythonReadsFloat32AndFloat16DumpsAsTheSchemaDescribes() throws {
        let dumps = [try capture(dtype: "f32"), try capture(dtype: "f16"),
                     try capture(dtype: "f32", Self.gradientOptions), try capture(dtype: "f16", Self.gradientOptions)]
        guard let python = PythonStack.find() else {
            throw XCTSkip("no Python with h5py, xarray, h5netcdf and pytest (set PYTHON=/path/to/python, or run scripts/setup-python-tests)")
        }
        let script = Fixtures.repositoryRoot.appendingPathComponent("Tests/Python/test_dump.py").path
        // One pytest run (xarray's import is the slow part); every check runs on each dump.
        let result = PythonStack.run(python, ["-m", "pytest", "-q", "-p", "no:cacheprovider", script],
                                     environment: ["ICL_DUMP_FILE": dumps.joined(separator: ":"),
                                                   "ICL_SCHEMA_FILE": CaptureTool.schemaFile])
        XCTAssertEqual(result.status, 0, "pytest on the float32 and float16 dumps, without and with --grads:\n\(result.output)")
        XCTAssertTrue(result.output.contains(" passed") && !result.output.contains("skipped"),
                      "pytest did not run every check on both dumps:\n\(result.output)")
    }

    func testFloat16DumpIsTheFloat32DumpRoundedToNearest() throws {
        try assertFloat16IsFloat32Rounded([], activations: 6 * 3 + 1, "z, resid, attention of 6 sets and the probe pattern")
    }

    /// grad_z and grad_resid are rounded like z; the per-head sums stay float32.
    func testFloat16GradientsAreTheFloat32OnesRoundedToNearest() throws {
        try assertFloat16IsFloat32Rounded(Self.gradientOptions, activations: 6 * 5 + 1,
                                          "z, resid, attention, grad_z, grad_resid of 6 sets and the probe pattern")
    }

    private func assertFloat16IsFloat32Rounded(_ extra: [String], activations count: Int, _ what: String) throws {
        let f32 = try DumpSnapshot(path: try capture(dtype: "f32", extra)), f16 = try DumpSnapshot(path: try capture(dtype: "f16", extra))
        XCTAssertEqual(f16.stringAttribute("/", "activation_dtype"), "float16")
        let activations = Set(DumpLayout.promptSet.datasets.filter { $0.type == .activation }.map(\.name)
                              + DumpLayout.probeSet.datasets.filter { $0.type == .activation }.map(\.name))
        var compared = 0
        for (path, wide) in f32.datasets where !f32.dimensionScales.contains(path) {
            let narrow = try f16.dataset(path)
            if activations.contains(String(path.split(separator: "/").last!)) {
                XCTAssertEqual(narrow.type, .float16, path)
                XCTAssertEqual(narrow.shape, wide.shape, path)
                let rounded = wide.numbers.map { Double(Float16(Float($0))) }
                XCTAssertTrue(narrow.numbers.elementsEqual(rounded), "\(path): \(firstDifference(narrow.numbers[...], rounded[...]))")
                compared += 1
            } else {
                XCTAssertTrue(narrow.identical(to: wide), "\(path) differs between the f32 and f16 captures")
            }
        }
        XCTAssertEqual(compared, count, what)
    }
}
