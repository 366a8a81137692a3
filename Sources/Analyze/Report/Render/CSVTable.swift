import Foundation

/// A table written as RFC 4180 CSV: a header line, then one line per row, CRLF line ends;
/// fields holding a comma, a double quote or a line break are quoted, quotes doubled.
public struct CSVTable: Sendable, Equatable {
    public var header: [String]
    /// Each row has one value per header column.
    public var rows: [[CSVValue]]

    public init(header: [String], rows: [[CSVValue]]) {
        self.header = header
        self.rows = rows
    }

    public func render() -> String {
        var out = Self.line(header)
        for row in rows { out += Self.line(row.map(\.fieldText)) }
        return out
    }

    /// Writes the CSV (UTF-8, no byte-order mark) to `url`, replacing any file there.
    public func write(to url: URL) throws {
        try Data(render().utf8).write(to: url, options: .atomic)
    }

    static func line(_ fields: [String]) -> String {
        fields.map(quoted).joined(separator: ",") + "\r\n"
    }

    static func quoted(_ field: String) -> String {
        let needsQuotes = field.unicodeScalars.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }
        guard needsQuotes else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
