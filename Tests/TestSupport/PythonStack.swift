import Foundation

/// The Python that reads dumps (h5py, xarray, h5netcdf, pytest): $PYTHON, then the repository's
/// .venv-reference / .venv-test, then python3. Tests that need it skip with a message without it.
public enum PythonStack {
    public static func find() -> String? {
        var candidates = [ProcessInfo.processInfo.environment["PYTHON"]].compactMap { $0 }
        candidates += [".venv-reference/bin/python", ".venv-test/bin/python"]
            .map { Fixtures.repositoryRoot.appendingPathComponent($0).path }
        candidates.append("python3")
        return candidates.first { run($0, ["-c", "import h5py, xarray, h5netcdf, pytest"]).status == 0 }
    }

    /// Runs `executable` (looked up on PATH), stdout and stderr together.
    public static func run(_ executable: String, _ arguments: [String],
                           environment: [String: String] = [:]) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return (-1, "\(error)") }
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}
