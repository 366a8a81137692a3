import Foundation
import Shared
import TestSupport
import XCTest

/// Writes a dump-like file with the layer and has Tests/Python/test_hdf5_layer.py read it
/// with h5py and xarray (engine h5netcdf): values, dtypes (float16 as float16),
/// attributes and labelled dims. Skips when no Python with h5py, xarray and h5netcdf is
/// found: $PYTHON, then the repository's .venv-reference / .venv-test, then python3.
final class HDF5PythonCrossCheckTests: XCTestCase {
    static let prompts = 3, tokens = 4, layers = 5, heads = 2, headDim = 6

    func testPythonReadsWhatTheLayerWrites() throws {
        guard let python = PythonStack.find() else {
            throw XCTSkip("no Python with h5py, xarray and h5netcdf (set PYTHON=/path/to/python to run this check)")
        }
        let path = try temporaryHDF5Path("cross.h5")
        try Self.writeCrossCheckFile(path)
        let script = Fixtures.repositoryRoot.appendingPathComponent("Tests/Python/test_hdf5_layer.py").path
        let usePytest = PythonStack.run(python, ["-c", "import pytest"]).status == 0
        let arguments = usePytest ? ["-m", "pytest", "-q", "-p", "no:cacheprovider", script] : [script]
        let result = PythonStack.run(python, arguments, environment: ["ICL_HDF5_LAYER_FILE": path])
        print(result.output)
        XCTAssertEqual(result.status, 0, "Python check failed:\n\(result.output)")
    }

    /// The layout of a capture dump in miniature: root attributes; a set group with netCDF
    /// dimensions, a coordinate variable, a float16 activation tensor and per-row flags.
    static func writeCrossCheckFile(_ path: String) throws {
        let file = try HDF5File.create(path, temporaryName: true)
        try file.setAttribute("model", "SmolLM2-135M — Q4_1")
        try file.setAttribute("layers", layers)
        try file.setAttribute("scale", 0.125)
        try file.setAttribute("heads", [0, 3, -7])
        try file.setAttribute("weights", [0.5, -1e-9])
        try file.setAttribute("words", ["hot", "cold", "naïve"])

        let set = try file.createGroup("sets/antonym")
        let prompt = try set.createDimension("prompt", size: prompts)
        let token = try set.createDimension("token", size: tokens)
        let layer = try set.createDataset("layer", of: .int32, shape: [layers])
        try layer.makeDimensionScale()
        let head = try set.createDimension("head", size: heads)
        let dim = try set.createDimension("dim", size: headDim)
        let z = try set.createDataset("z", of: .float16, shape: [prompts, tokens, layers, heads, headDim])
        try z.attachDimensionScales([prompt, token, layer, head, dim])
        try z.setAttribute("units", "activation")
        let done = try set.createDataset("done", of: .uint8, shape: [prompts])
        try done.attachDimensionScales([prompt])
        let words = try set.createDataset("words", of: .variableLengthString, shape: [prompts])
        try words.attachDimensionScales([prompt])
        try words.writeStrings(["hot", "naïve", "日本語"])
        try set.createDataset("fixed", of: .fixedLengthString(bytes: 8), shape: [prompts]).writeStrings(["a", "bb", "ccc"])

        let numbers = try file.createGroup("numbers")
        try numbers.createDataset("f32", of: .float32, shape: [3]).write([Float(0.1), -2, 3e38])
        try numbers.createDataset("f64", of: .float64, shape: [3]).write([0.1, -2, 1e300])
        try numbers.createDataset("i8", of: .int8, shape: [3]).write([Int8.min, 0, .max])
        try numbers.createDataset("u8", of: .uint8, shape: [3]).write([UInt8(0), 1, 255])
        try numbers.createDataset("i32", of: .int32, shape: [3]).write([Int32.min, 0, .max])
        try numbers.createDataset("i64", of: .int64, shape: [3]).write([Int64.min, 0, .max])
        let rounding = roundingInputs()
        let rounded = try numbers.createDataset("rounding", of: .float16, shape: [rounding.count])
        let packed = try numbers.createDataset("packed", of: .float32, shape: [64, 32], layout: .compressed(chunk: [16, 32]))
        try file.commitName()

        // Streaming phase: raw data only.
        try layer.write((0..<layers).map { Int32($0) })
        try rounded.write(rounding)
        try packed.write((0..<2048).map { Float($0 % 17) })
        let rowShape = [prompts, tokens, layers, heads, headDim]
        for p in 0..<prompts {
            let row = (0..<(tokens * layers * heads * headDim)).map { zValue(p, $0) }
            try z.write(row, at: .rows(p..<p + 1, of: rowShape))
            try done.write([UInt8(1)], at: HDF5Hyperslab(start: [p], count: [1]))
        }
        try file.close()
    }

    /// z[p, ...] in row-major order; multiples of 1/16 in [-3, 3], exact in float16.
    static func zValue(_ p: Int, _ flatIndex: Int) -> Float {
        Float((p * 7919 + flatIndex * 31) % 97 - 48) / 16
    }

    /// Float32 bit patterns spread over the half range (subnormals to overflow), both signs;
    /// Python computes the same list and compares with numpy's astype(float16).
    static func roundingInputs() -> [Float] {
        (0..<8192).flatMap { i -> [Float] in
            let value = Float(bitPattern: UInt32(0x3300_0000 + i * 40503))
            return [value, -value]
        }
    }
}
