import Analyze
import Foundation
import XCTest

/// The report folder opened in a real browser (headless Chromium), as a collaborator would.
///
/// How: the product page has no scripts, so the test writes a copy of index.html,
/// browser-check.html, into the same folder with one script added at the top of <head> (before
/// any image starts loading). That script records every load error (a capturing "error"
/// listener sees failed <img> loads), every console.error/warn and CSP violation, and at the
/// window's load event (which waits for all images) writes what it saw, base64 JSON, into a
/// <pre> that `chromium --dump-dom` prints. The test then requires every <img> complete with
/// the natural size its SVG declares, no load errors, only file: resources, no horizontal
/// overflow, and no `INFO:CONSOLE` line in Chromium's log (where messages the browser itself
/// sends to the console appear). A control page with a missing image, a malformed SVG and a
/// console.error shows that each of these checks does fire.
///
/// Last, a screenshot of the whole page must come out as a PNG of the page's size.
///
/// The tests skip only when no Chromium binary is found. Set ICL_RENDER_SAMPLE_DIR=/some/dir to
/// keep the sample report and its screenshot (screenshot.png) there for a look.
final class ReportBrowserTests: XCTestCase {
    private var folder: URL!
    private var keepFolder = false

    override func setUpWithError() throws {
        if let kept = ProcessInfo.processInfo.environment["ICL_RENDER_SAMPLE_DIR"] {
            folder = URL(fileURLWithPath: kept)
            keepFolder = true
        } else {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)")
        }
    }

    override func tearDownWithError() throws {
        if let folder, !keepFolder { try? FileManager.default.removeItem(at: folder) }
    }

    private func chromium() throws -> HeadlessChromium {
        guard let chromium = HeadlessChromium.find() else {
            throw XCTSkip("no Chromium binary (chromium, chromium-browser, google-chrome on PATH, or CHROMIUM=/path); "
                          + "scripts/setup-system installs Debian's chromium")
        }
        return chromium
    }

    func testEveryFigureLoadsAndTheConsoleStaysQuiet() throws {
        let chromium = try chromium()
        let report = try SampleReport.write(to: folder)
        let run = try chromium.dumpDOM(of: Self.copyWithCheckScript(folder.appendingPathComponent("index.html")), width: 1200)
        print("chromium --dump-dom of the sample report: \(String(format: "%.2f", run.seconds)) s")
        XCTAssertEqual(run.status, 0, run.log)
        let check = try Self.result(of: run)
        let figures = report.sections.flatMap(\.figures)
        XCTAssertEqual(check.images.count, figures.count)
        for (image, figure) in zip(check.images, figures) {
            XCTAssertTrue(image.complete && image.width > 0 && image.height > 0, "\(figure.file) did not load: \(image)")
            let svg = SVGInspection(try String(contentsOf: folder.appendingPathComponent(figure.file), encoding: .utf8))
            XCTAssertEqual(Double(image.width), svg.size.width.rounded(), "\(figure.file): natural width")
            XCTAssertEqual(Double(image.height), svg.size.height.rounded(), "\(figure.file): natural height")
            XCTAssertLessThanOrEqual(image.shownWidth, Double(check.viewportWidth), figure.file)
        }
        XCTAssertEqual(check.problems, [])
        XCTAssertEqual(check.console, [])
        XCTAssertEqual(check.resources.filter { !$0.hasPrefix("file:") }, [], "everything comes from the folder")
        XCTAssertLessThanOrEqual(check.scrollWidth, check.viewportWidth, "the page scrolls sideways")
        XCTAssertEqual(Self.consoleLines(run.log), [])

        // The whole page as a PNG of the size the page says it has.
        let png = folder.appendingPathComponent("screenshot.png")
        let height = min(check.scrollHeight, 16_000)
        let shot = try chromium.screenshot(of: folder.appendingPathComponent("index.html"), to: png, width: 1200, height: height)
        print("chromium --screenshot of the sample report (1200 x \(height)): \(String(format: "%.2f", shot.seconds)) s")
        XCTAssertEqual(shot.status, 0, shot.log)
        let data = try Data(contentsOf: png)
        XCTAssertEqual(Array(data.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "not a PNG")
        // PNG header: width and height are the big-endian words at bytes 16 and 20.
        let word = { (offset: Int) in data[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) } }
        XCTAssertEqual(word(16), 1200)
        XCTAssertEqual(word(20), height)
    }

    /// The same checks on a page that breaks each of them: they must all fire.
    func testTheCheckCatchesBrokenImagesAndConsoleErrors() throws {
        let chromium = try chromium()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try SampleFigures.oneCellHeatmap().write(to: folder.appendingPathComponent("good.svg"))
        try "<svg xmlns=\"http://www.w3.org/2000/svg\"><rect></svg>".write(
            to: folder.appendingPathComponent("malformed.svg"), atomically: true, encoding: .utf8)
        let control = """
        <!DOCTYPE html><html><head><meta charset="utf-8"><title>control</title></head><body>
        <img src="good.svg" alt="good"><img src="malformed.svg" alt="malformed"><img src="missing.svg" alt="missing">
        <script>console.error("deliberate console error")</script>
        </body></html>
        """
        let page = folder.appendingPathComponent("control.html")
        try Self.withCheckScript(control).write(to: page, atomically: true, encoding: .utf8)

        let run = try chromium.dumpDOM(of: page)
        let check = try Self.result(of: run)
        XCTAssertEqual(check.images.map { $0.width > 0 }, [true, false, false])
        XCTAssertEqual(check.problems.count, 2, "\(check.problems)")
        XCTAssertTrue(check.problems.allSatisfy { $0.hasPrefix("failed to load") }, "\(check.problems)")
        XCTAssertEqual(check.console, ["error: deliberate console error"])
        XCTAssertEqual(Self.consoleLines(run.log).count, 1, run.log)
    }

    // MARK: The injected check

    struct CheckResult: Decodable {
        struct Image: Decodable, CustomStringConvertible {
            let src: String
            let complete: Bool
            let width: Int
            let height: Int
            let shownWidth: Double
            var description: String { "\(src) complete \(complete) natural \(width)x\(height)" }
        }

        let images: [Image]
        let problems: [String]
        let console: [String]
        let resources: [String]
        let scrollWidth: Int
        let scrollHeight: Int
        let viewportWidth: Int
    }

    static let checkScript = """
    <script>
    (function () {
      var problems = [], messages = [];
      ["error", "warn"].forEach(function (level) {
        var original = console[level];
        console[level] = function () {
          messages.push(level + ": " + Array.prototype.join.call(arguments, " "));
          original.apply(console, arguments);
        };
      });
      window.addEventListener("error", function (event) {
        var target = event.target;
        problems.push(target && target !== window
          ? "failed to load " + (target.currentSrc || target.src || target.href || target.tagName)
          : "script error: " + event.message);
      }, true);
      document.addEventListener("securitypolicyviolation", function (event) { problems.push("blocked " + event.blockedURI); });
      window.addEventListener("load", function () {
        var root = document.documentElement;
        var result = {
          images: Array.prototype.map.call(document.images, function (image) {
            return { src: image.getAttribute("src"), complete: image.complete, width: image.naturalWidth,
                     height: image.naturalHeight, shownWidth: image.getBoundingClientRect().width };
          }),
          problems: problems, console: messages,
          resources: performance.getEntriesByType("resource").map(function (entry) { return entry.name; }),
          scrollWidth: root.scrollWidth, scrollHeight: root.scrollHeight, viewportWidth: window.innerWidth
        };
        var output = document.createElement("pre");
        output.id = "browser-check";
        output.textContent = btoa(unescape(encodeURIComponent(JSON.stringify(result))));
        document.body.appendChild(output);
      });
    })();
    </script>
    """

    /// `html` with the check script as the first element of <head>.
    static func withCheckScript(_ html: String) -> String {
        guard let head = html.range(of: "<head>") else { return html }
        return html.replacingCharacters(in: head, with: "<head>\n" + checkScript)
    }

    /// browser-check.html beside `page`, with the check script.
    static func copyWithCheckScript(_ page: URL) throws -> URL {
        let copy = page.deletingLastPathComponent().appendingPathComponent("browser-check.html")
        try withCheckScript(try String(contentsOf: page, encoding: .utf8)).write(to: copy, atomically: true, encoding: .utf8)
        return copy
    }

    static func result(of run: HeadlessChromium.Run) throws -> CheckResult {
        let dom = run.standardOutput
        guard let start = dom.range(of: "<pre id=\"browser-check\">"),
              let end = dom.range(of: "</pre>", range: start.upperBound..<dom.endIndex),
              let json = Data(base64Encoded: String(dom[start.upperBound..<end.lowerBound])) else {
            throw HeadlessChromium.Failure(description: "the check script left no result (status \(run.status)); log:\n\(run.log)")
        }
        return try JSONDecoder().decode(CheckResult.self, from: json)
    }

    /// Console messages in Chromium's log ("[pid:tid:date:INFO:CONSOLE:line] \"text\", source: url").
    static func consoleLines(_ log: String) -> [String] {
        log.split(separator: "\n").filter { $0.contains(":CONSOLE") }.map(String.init)
    }
}
