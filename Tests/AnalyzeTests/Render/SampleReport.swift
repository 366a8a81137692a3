import Analyze
import Foundation

/// A report folder like the one `icl-analyze report` writes: every sample figure, two CSV
/// tables and index.html. One file name has spaces, to check the links are encoded.
enum SampleReport {
    static func report(figures: [(file: String, figure: any SVGFigure)]) -> HTMLReport {
        func section(_ heading: String, _ prefix: String, _ text: String) -> HTMLReport.Section {
            HTMLReport.Section(heading: heading, paragraphs: [text], figures: figures.filter { $0.file.hasPrefix(prefix) }.map {
                HTMLReport.Figure(file: $0.file, caption: "\($0.figure.title) (\($0.file)).")
            })
        }
        let heatmap = SampleFigures.sequentialHeatmap()
        let scores = CSVTable(header: ["layer", "head", "TR score"], rows: heatmap.values.indices.map {
            [.int($0 / heatmap.columns), .int($0 % heatmap.columns), .number(heatmap.values[$0])]
        })
        let tables = HTMLReport.Section(
            heading: "Tables", paragraphs: ["Scores per head, and a table of awkward values <escaped> & quoted \"like this\"."],
            tables: [
                HTMLReport.Table(caption: "TR score per head", table: scores, maxRows: 10, csvFile: "head_scores.csv"),
                HTMLReport.Table(caption: "Awkward values", table: CSVTableTests.table(), csvFile: "awkward values.csv"),
            ])
        return HTMLReport(
            title: "Sample report: ICL heads of a made-up model",
            paragraphs: ["Made-up data drawn by the renderer's tests; every figure kind, ordinary and edge cases."],
            sections: [
                section("Heatmaps", "heatmap", "Scores per layer and head; layer 0 at the top."),
                section("Scatter plots", "scatter", "TR against TL, with the top heads named."),
                section("Line charts", "lines", "Per-layer curves with bands, and a series with a gap."),
                section("Bar charts", "bars", "Ablations against random head sets."),
                tables,
            ])
    }

    static func figures() -> [(file: String, figure: any SVGFigure)] {
        SampleFigures.all().map { ($0.file == "heatmap_one_cell.svg" ? "heatmap one cell.svg" : $0.file, $0.figure) }
    }

    /// Writes the figures, the CSV files and index.html into `folder` and returns the report.
    @discardableResult
    static func write(to folder: URL) throws -> HTMLReport {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let figures = figures()
        for (file, figure) in figures { try figure.write(to: folder.appendingPathComponent(file)) }
        let report = report(figures: figures)
        for table in report.sections.flatMap(\.tables) {
            if let file = table.csvFile { try table.table.write(to: folder.appendingPathComponent(file)) }
        }
        try report.write(to: folder.appendingPathComponent("index.html"))
        return report
    }
}
