import Foundation

/// Chromium run headless on local files, for the tests that check what a reader's browser
/// does with a report. Found as $CHROMIUM, else chromium, chromium-browser, google-chrome or
/// google-chrome-stable on PATH (scripts/setup-system installs Debian's chromium).
struct HeadlessChromium {
    struct Run {
        let status: Int32
        let standardOutput: String
        /// Chromium's own log (`--enable-logging=stderr`): at the default level it includes one
        /// `INFO:CONSOLE` line per message the page wrote to the console.
        let log: String
        let seconds: Double
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let executable: String

    static func find() -> HeadlessChromium? {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["CHROMIUM"], FileManager.default.isExecutableFile(atPath: path) {
            return HeadlessChromium(executable: path)
        }
        let directories = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
        for name in ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"] {
            for directory in directories {
                let path = URL(fileURLWithPath: directory).appendingPathComponent(name).path
                if FileManager.default.isExecutableFile(atPath: path) { return HeadlessChromium(executable: path) }
            }
        }
        return nil
    }

    /// The page's DOM once it has loaded (the load event waits for every <img>).
    func dumpDOM(of page: URL, width: Int = 1200, height: Int = 900) throws -> Run {
        try run(["--dump-dom", "--window-size=\(width),\(height)", page.absoluteString])
    }

    /// A PNG of the first `width` x `height` pixels of the page.
    func screenshot(of page: URL, to png: URL, width: Int, height: Int) throws -> Run {
        try run(["--screenshot=\(png.path)", "--window-size=\(width),\(height)", "--hide-scrollbars", page.absoluteString])
    }

    /// Runs Chromium with a throw-away profile, no sandbox (tests may run as root), no GPU and
    /// no background network traffic. Output goes to files, not pipes, so a large DOM cannot
    /// fill a pipe and stall the browser; a run that takes over two minutes is stopped.
    private func run(_ arguments: [String]) throws -> Run {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outputURL = scratch.appendingPathComponent("stdout"), logURL = scratch.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let output = try FileHandle(forWritingTo: outputURL), log = try FileHandle(forWritingTo: logURL)
        defer { try? output.close(); try? log.close() }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--enable-logging=stderr", "--v=0",
            "--user-data-dir=\(scratch.appendingPathComponent("profile").path)",
        ] + arguments
        process.standardOutput = output
        process.standardError = log
        let start = Date()
        try process.run()
        let deadline = start.addingTimeInterval(120)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            throw Failure(description: "\(executable) did not finish within 120 s: \(arguments.joined(separator: " "))")
        }
        return Run(status: process.terminationStatus,
                   standardOutput: String(decoding: try Data(contentsOf: outputURL), as: UTF8.self),
                   log: String(decoding: try Data(contentsOf: logURL), as: UTF8.self),
                   seconds: Date().timeIntervalSince(start))
    }
}
