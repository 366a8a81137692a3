import Analyze
import Foundation
import XCTest

/// index.html is self-contained (no scripts, nothing from the network), escapes all text and
/// links the files beside it.
final class HTMLReportTests: XCTestCase {
    func testPageIsSelfContainedAndDeterministic() {
        let html = SampleReport.report(figures: SampleReport.figures()).render()
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>\n<html lang=\"en\">"))
        XCTAssertTrue(html.contains("<meta charset=\"utf-8\">"))
        for forbidden in ["<script", "http://", "https://", "src=\"//", "href=\"//", "@import", "url("] {
            XCTAssertFalse(html.contains(forbidden), forbidden)
        }
        XCTAssertFalse(html.contains("loading=\"lazy\""), "every figure must load with the page")
        XCTAssertEqual(html, SampleReport.report(figures: SampleReport.figures()).render())
    }

    func testFiguresAreLinkedWithEncodedNamesAndEscapedText() {
        let report = HTMLReport(title: "A <b>bold</b> & \"quoted\" title", sections: [
            HTMLReport.Section(heading: "Heads & <tails>", paragraphs: ["1 < 2 > 0 'ok'"], figures: [
                HTMLReport.Figure(file: "tr heatmap#1.svg", caption: "Caption <i>x</i>"),
                HTMLReport.Figure(file: "b.svg", caption: "B", alternativeText: "Alt \"text\""),
            ]),
        ])
        let html = report.render()
        XCTAssertTrue(html.contains("<title>A &lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot; title</title>"))
        XCTAssertTrue(html.contains("<h2>Heads &amp; &lt;tails&gt;</h2>"))
        XCTAssertTrue(html.contains("<p>1 &lt; 2 &gt; 0 &#39;ok&#39;</p>"))
        XCTAssertTrue(html.contains("<img src=\"tr%20heatmap%231.svg\" alt=\"Caption &lt;i&gt;x&lt;/i&gt;\">"))
        XCTAssertTrue(html.contains("<figcaption>Caption &lt;i&gt;x&lt;/i&gt;</figcaption>"))
        XCTAssertTrue(html.contains("alt=\"Alt &quot;text&quot;\""))
        XCTAssertFalse(html.contains("<nav"), "one section needs no contents list")
    }

    func testTablesShowTheirFirstRowsAndLinkTheFullCSV() {
        let table = CSVTable(header: ["head", "score", "note"], rows: (0..<5).map {
            [.text("L\($0)H0"), $0 == 3 ? .missing : .number(Double($0) / 3), .text("<\($0)>")]
        })
        let report = HTMLReport(title: "T", sections: [
            HTMLReport.Section(heading: "A", tables: [HTMLReport.Table(caption: "Scores", table: table, maxRows: 2, csvFile: "scores.csv")]),
            HTMLReport.Section(heading: "B", tables: [HTMLReport.Table(caption: "All", table: table)]),
        ])
        let html = report.render()
        XCTAssertTrue(html.contains("<caption>Scores</caption>"))
        XCTAssertTrue(html.contains("<tr><th scope=\"col\">head</th><th scope=\"col\" class=\"number\">score</th><th scope=\"col\">note</th></tr>"))
        XCTAssertTrue(html.contains("<tr><td>L1H0</td><td class=\"number\">0.3333</td><td>&lt;1&gt;</td></tr>"))
        let occurrences = { (text: String) in html.components(separatedBy: text).count - 1 }
        XCTAssertEqual(occurrences("<td>L1H0</td>"), 2, "in both tables")
        XCTAssertEqual(occurrences("<td>L2H0</td>"), 1, "only in the table without maxRows")
        XCTAssertTrue(html.contains("First 2 of 5 rows. All rows with full precision: <a href=\"scores.csv\">scores.csv</a>."))
        XCTAssertTrue(html.contains("<td class=\"missing\">\u{2013}</td>"))
        XCTAssertTrue(html.contains("<nav aria-label=\"Contents\">"))
        XCTAssertTrue(html.contains("<li><a href=\"#section-2\">B</a></li>"))
        XCTAssertTrue(html.contains("<section id=\"section-2\">"))
    }
}
