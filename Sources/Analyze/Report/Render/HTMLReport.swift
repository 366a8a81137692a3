import Foundation

/// The report's index.html: one self-contained HTML5 page (inline CSS, no scripts, nothing
/// fetched from the network) showing the SVG figures and CSV tables that sit beside it in the
/// same folder, so the folder can be sent as it is and opened offline.
public struct HTMLReport: Sendable {
    public struct Figure: Sendable, Equatable {
        /// File name relative to the report folder ("tr_heatmap.svg").
        public var file: String
        public var caption: String
        /// Text for readers who cannot see the image; the caption when nil.
        public var alternativeText: String?

        public init(file: String, caption: String, alternativeText: String? = nil) {
            self.file = file
            self.caption = caption
            self.alternativeText = alternativeText
        }
    }

    public struct Table: Sendable, Equatable {
        public var caption: String
        public var table: CSVTable
        /// Rows shown on the page; nil shows all.
        public var maxRows: Int?
        /// The CSV file with every row, linked under the table ("head_scores.csv").
        public var csvFile: String?

        public init(caption: String, table: CSVTable, maxRows: Int? = nil, csvFile: String? = nil) {
            self.caption = caption
            self.table = table
            self.maxRows = maxRows
            self.csvFile = csvFile
        }
    }

    public struct Section: Sendable, Equatable {
        public var heading: String
        public var paragraphs: [String]
        public var figures: [Figure]
        public var tables: [Table]

        public init(heading: String, paragraphs: [String] = [], figures: [Figure] = [], tables: [Table] = []) {
            self.heading = heading
            self.paragraphs = paragraphs
            self.figures = figures
            self.tables = tables
        }
    }

    public var title: String
    /// Paragraphs under the title, before the sections (what was analysed, with what).
    public var paragraphs: [String]
    public var sections: [Section]

    public init(title: String, paragraphs: [String] = [], sections: [Section]) {
        self.title = title
        self.paragraphs = paragraphs
        self.sections = sections
    }

    public func render() -> String {
        var html = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(Self.escape(title))</title>
        <style>
        \(Self.styleSheet)</style>
        </head>
        <body>
        <main>
        <h1>\(Self.escape(title))</h1>

        """
        for paragraph in paragraphs { html += "<p>\(Self.escape(paragraph))</p>\n" }
        if sections.count > 1 {
            html += "<nav aria-label=\"Contents\">\n<ol>\n"
            for (index, section) in sections.enumerated() {
                html += "<li><a href=\"#\(Self.anchor(index))\">\(Self.escape(section.heading))</a></li>\n"
            }
            html += "</ol>\n</nav>\n"
        }
        for (index, section) in sections.enumerated() {
            html += "<section id=\"\(Self.anchor(index))\">\n<h2>\(Self.escape(section.heading))</h2>\n"
            for paragraph in section.paragraphs { html += "<p>\(Self.escape(paragraph))</p>\n" }
            for figure in section.figures { html += Self.render(figure) }
            for table in section.tables { html += Self.render(table) }
            html += "</section>\n"
        }
        html += "</main>\n</body>\n</html>\n"
        return html
    }

    /// Writes the page (UTF-8) to `url`, replacing any file there.
    public func write(to url: URL) throws {
        try Data(render().utf8).write(to: url, options: .atomic)
    }

    private static func render(_ figure: Figure) -> String {
        let alternative = figure.alternativeText ?? figure.caption
        return "<figure>\n<img src=\"\(link(figure.file))\" alt=\"\(escape(alternative))\">\n"
            + "<figcaption>\(escape(figure.caption))</figcaption>\n</figure>\n"
    }

    private static func render(_ table: Table) -> String {
        let shown = table.maxRows.map { min(max($0, 0), table.table.rows.count) } ?? table.table.rows.count
        var html = "<div class=\"table\">\n<table>\n<caption>\(escape(table.caption))</caption>\n<thead>\n<tr>"
        for (column, name) in table.table.header.enumerated() {
            // Headings of number columns sit right, over their numbers.
            let values = table.table.rows.compactMap { column < $0.count && $0[column] != .missing ? $0[column] : nil }
            let numeric = !values.isEmpty && values.allSatisfy(\.isNumeric)
            html += "<th scope=\"col\"\(numeric ? " class=\"number\"" : "")>\(escape(name))</th>"
        }
        html += "</tr>\n</thead>\n<tbody>\n"
        for row in table.table.rows.prefix(shown) {
            html += "<tr>"
            for value in row {
                let kind = value.isNumeric ? " class=\"number\"" : value == .missing ? " class=\"missing\"" : ""
                html += "<td\(kind)>\(escape(value.displayText))</td>"
            }
            html += "</tr>\n"
        }
        html += "</tbody>\n</table>\n</div>\n"
        let total = table.table.rows.count
        if shown < total || table.csvFile != nil {
            var note = shown < total ? "First \(shown) of \(total) rows." : "\(total) rows."
            if let file = table.csvFile {
                note += " All rows with full precision: <a href=\"\(link(file))\">\(escape(file))</a>."
            }
            html += "<p class=\"note\">\(note)</p>\n"
        }
        return html
    }

    /// A file name in the report folder as an href/src value: path characters kept, anything
    /// else (spaces, #, ?) percent-encoded, then escaped for the attribute.
    private static func link(_ file: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "?#;")
        return escape(file.addingPercentEncoding(withAllowedCharacters: allowed) ?? file)
    }

    private static func anchor(_ index: Int) -> String { "section-\(index + 1)" }

    private static func escape(_ text: String) -> String { MarkupText.escape(text) }

    private static let styleSheet = """
    :root { color-scheme: light; }
    body { margin: 0; background: #f6f6f4; color: #222; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; }
    main { max-width: 1040px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
    h1 { font-size: 1.7em; margin: 0.3em 0 0.6em; }
    h2 { font-size: 1.3em; margin: 1.8em 0 0.5em; padding-top: 0.4em; border-top: 1px solid #ddd; }
    nav ol { margin: 0.4em 0 1em; padding-left: 1.4em; }
    a { color: #0b5cad; }
    figure { margin: 1.2em 0; }
    figure img { display: block; max-width: 100%; height: auto; border: 1px solid #e4e4e4; }
    figcaption { font-size: 0.92em; color: #444; margin-top: 0.4em; max-width: 80ch; }
    div.table { overflow-x: auto; margin: 1.2em 0 0.3em; }
    table { border-collapse: collapse; font-size: 0.88em; }
    caption { caption-side: top; text-align: left; font-weight: 600; padding-bottom: 0.4em; }
    th, td { padding: 3px 10px; border-bottom: 1px solid #e4e4e4; text-align: left; white-space: nowrap; }
    thead th { border-bottom: 2px solid #bbb; background: #fafafa; }
    tbody tr:nth-child(even) { background: #f8f8f8; }
    td.number { text-align: right; font-variant-numeric: tabular-nums; }
    th.number { text-align: right; }
    td.missing { color: #999; text-align: center; }
    p.note { font-size: 0.85em; color: #666; margin-top: 0.2em; }
    @media print { body { background: #fff; } main { padding: 0; } figure, div.table { break-inside: avoid; } }

    """
}
