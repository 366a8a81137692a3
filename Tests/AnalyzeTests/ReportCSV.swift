import Foundation
import XCTest

/// A report's CSV file read back by column name. Report tables quote no field the tests read
/// (set names, numbers), so a line splits at its commas.
struct ReportCSV {
    let header: [String]
    let rows: [[String]]

    init(_ path: String) throws {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(whereSeparator: \.isNewline)
        let fields = lines.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        header = try XCTUnwrap(fields.first, "\(path) is empty")
        rows = Array(fields.dropFirst())
        for (i, row) in rows.enumerated() where row.count != header.count {
            XCTFail("\(path) row \(i) has \(row.count) fields for \(header.count) columns")
        }
    }

    func texts(_ column: String) throws -> [String] {
        let index = try XCTUnwrap(header.firstIndex(of: column), "no column \(column) in \(header)")
        return rows.map { $0[index] }
    }

    /// NaN for an empty field or `nan`.
    func numbers(_ column: String) throws -> [Double] {
        try texts(column).map { Double($0) ?? .nan }
    }

    /// Parsed as Float, then widened: per-prompt values are float32 written as the shortest
    /// decimal that reads back as the same float32, which a Double parse would miss by up to
    /// half a float32 unit. NaN for an empty field or `nan`.
    func floats(_ column: String) throws -> [Double] {
        try texts(column).map { Float($0).map(Double.init) ?? .nan }
    }

    func integers(_ column: String) throws -> [Int] {
        try texts(column).map { try XCTUnwrap(Int($0), "\(column): \($0) is not an integer") }
    }

    /// The rows whose `column` equals `value`.
    func filtered(_ column: String, _ value: String) throws -> ReportCSV {
        let index = try XCTUnwrap(header.firstIndex(of: column), "no column \(column)")
        return ReportCSV(header: header, rows: rows.filter { $0[index] == value })
    }

    private init(header: [String], rows: [[String]]) {
        self.header = header
        self.rows = rows
    }
}
