import Foundation

/// One cell of a CSV table.
public enum CSVValue: Sendable, Equatable {
    case text(String)
    case int(Int)
    /// Written with nine significant digits: enough to give back every Float exactly and a
    /// Double to about 1e-9 relative; NaN and infinities as `nan`, `inf`, `-inf`, which
    /// Python's float() and pandas.read_csv read back as such.
    case number(Double)
    /// An empty field.
    case missing

    /// The field before CSV quoting.
    var fieldText: String {
        switch self {
        case .text(let text): text
        case .int(let value): String(value)
        case .number(let value): Self.format(value, significantDigits: 9)
        case .missing: ""
        }
    }

    /// The cell as shown in an HTML table: numbers to four significant digits.
    var displayText: String {
        switch self {
        case .text(let text): text
        case .int(let value): String(value)
        case .number(let value): Self.format(value, significantDigits: 4)
        case .missing: "\u{2013}"
        }
    }

    var isNumeric: Bool {
        switch self {
        case .int, .number: true
        case .text, .missing: false
        }
    }

    static func format(_ value: Double, significantDigits: Int) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        return NumberText.format("%.\(significantDigits)g", value)
    }
}
