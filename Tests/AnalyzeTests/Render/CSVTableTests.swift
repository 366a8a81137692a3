import Analyze
import Foundation
import Shared
import TestSupport
import XCTest

/// CSV tables read back by an independent reader (Swift, then Python's csv module) give the
/// same strings, the same integers, and numbers equal at Float precision.
final class CSVTableTests: XCTestCase {
    static let trickyTexts = [
        "plain", "with,comma", "with \"quotes\"", "\"", "line\nbreak", "crlf\r\nbreak", "", " padded ",
        "ünïcödé ✓ 日本", "nan", "=1+2", "trailing,", "tab\there",
    ]
    /// Numbers that are Floats (scores are computed from float32 activations): they must come
    /// back exactly once rounded to Float.
    static let floatNumbers: [Float] = [
        .pi, -.pi, 0.1, 1e-7, 123_456_792, .leastNonzeroMagnitude, .leastNormalMagnitude,
        .greatestFiniteMagnitude, -0.0, 0, 1, -3.5e-20,
    ]
    /// Doubles: nine significant digits keep them within 5e-9 relative (half a unit of the
    /// ninth digit); NaN and infinities exactly.
    static let doubleNumbers: [Double] = [0.1, 1.0 / 3, 1e300, -2.5e-300, 2.0 / 3 * 1e-5, .nan, .infinity, -.infinity]
    static let integers = [0, -1, 42, Int.max, Int.min]

    static func table() -> CSVTable {
        var rows: [[CSVValue]] = []
        let count = max(trickyTexts.count, floatNumbers.count, doubleNumbers.count, integers.count)
        for index in 0..<count {
            rows.append([
                index < trickyTexts.count ? .text(trickyTexts[index]) : .missing,
                index < floatNumbers.count ? .number(Double(floatNumbers[index])) : .missing,
                index < doubleNumbers.count ? .number(doubleNumbers[index]) : .missing,
                index < integers.count ? .int(integers[index]) : .missing,
            ])
        }
        return CSVTable(header: ["name, with comma", "float \"score\"", "double", "count"], rows: rows)
    }

    func testSwiftReaderGetsBackEveryValue() throws {
        let table = Self.table()
        let records = try CSVReader.records(table.render())
        XCTAssertEqual(records.count, table.rows.count + 1)
        XCTAssertEqual(records[0], table.header)
        for (index, record) in records.dropFirst().enumerated() {
            XCTAssertEqual(record.count, 4, "row \(index)")
            let text = index < Self.trickyTexts.count ? Self.trickyTexts[index] : ""
            XCTAssertEqual(record[0], text, "row \(index)")
            if index < Self.floatNumbers.count {
                let back = try XCTUnwrap(Float(record[1]), record[1])
                XCTAssertEqual(back.bitPattern, Self.floatNumbers[index].bitPattern, "row \(index): \(record[1])")
            } else {
                XCTAssertEqual(record[1], "")
            }
            if index < Self.doubleNumbers.count {
                let expected = Self.doubleNumbers[index], back = try XCTUnwrap(Double(record[2]), record[2])
                if expected.isNaN {
                    XCTAssertEqual(record[2], "nan")
                } else if expected.isInfinite {
                    XCTAssertEqual(back, expected)
                } else {
                    XCTAssertLessThanOrEqual(abs(back - expected), 5e-9 * abs(expected), "row \(index): \(record[2])")
                }
            }
            if index < Self.integers.count { XCTAssertEqual(Int(record[3]), Self.integers[index]) }
        }
    }

    /// The claim behind nine digits, over many Floats of every magnitude: formatting and
    /// parsing gives back the same bits.
    func testNineDigitsGiveBackEveryFloat() throws {
        var random = SplitMix64(seed: 7)
        var failures: [String] = []
        for _ in 0..<20_000 {
            let value = Float(bitPattern: UInt32(truncatingIfNeeded: random.next()))
            guard value.isFinite else { continue }
            let field = CSVTable(header: ["v"], rows: [[.number(Double(value))]]).render()
                .split(separator: "\r\n").last.map(String.init) ?? ""
            if Float(field)?.bitPattern != value.bitPattern { failures.append("\(value) -> \(field)") }
        }
        XCTAssertEqual(Array(failures.prefix(5)), [])
    }

    func testQuotingFollowsRFC4180() {
        let table = CSVTable(header: ["a", "b"], rows: [[.text("x,y"), .text("say \"hi\"")], [.missing, .int(3)]])
        XCTAssertEqual(table.render(), "a,b\r\n\"x,y\",\"say \"\"hi\"\"\"\r\n,3\r\n")
    }

    func testWrittenFileIsTheRenderedText() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("csv-\(UUID().uuidString).csv")
        defer { try? FileManager.default.removeItem(at: url) }
        let table = Self.table()
        try table.write(to: url)
        XCTAssertEqual(try Data(contentsOf: url), Data(table.render().utf8))
    }

    /// Python's csv module (what pandas users fall back on) reads the same table: strings
    /// exactly, integers exactly, float() of the numbers equal after rounding to float32 (via
    /// struct) or within 5e-9 relative, and nan/inf/-inf as such.
    func testPythonCSVModuleReadsTheSameValues() throws {
        let python = PythonStack.find() ?? "python3"
        guard PythonStack.run(python, ["-c", "import csv, json, struct"]).status == 0 else {
            throw XCTSkip("no python3 with the standard library (set PYTHON=/path/to/python)")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("csv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let csv = directory.appendingPathComponent("table.csv")
        try Self.table().write(to: csv)
        // Expected values travel as JSON strings; numbers as C99 hex floats ("%a") so that
        // Python's float.fromhex gets exactly the Double the table was made from.
        let expected: [String: [String]] = [
            "texts": Self.trickyTexts,
            "floats": Self.floatNumbers.map { String(format: "%a", Double($0)) },
            "doubles": Self.doubleNumbers.map { $0.isNaN ? "nan" : String(format: "%a", $0) },
            "integers": Self.integers.map(String.init),
        ]
        let expectedURL = directory.appendingPathComponent("expected.json")
        try JSONEncoder().encode(expected).write(to: expectedURL)
        let script = """
        import csv, json, math, struct, sys
        expected = json.load(open(sys.argv[2]))
        with open(sys.argv[1], newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        problems = []
        f32 = lambda v: struct.unpack("f", struct.pack("f", v))[0]
        if rows[0] != ["name, with comma", 'float "score"', "double", "count"]:
            problems.append("header %r" % rows[0])
        body = rows[1:]
        for i, text in enumerate(expected["texts"]):
            if body[i][0] != text: problems.append("text %d: %r != %r" % (i, body[i][0], text))
        for i, h in enumerate(expected["floats"]):
            want = float.fromhex(h)
            if f32(float(body[i][1])) != f32(want) or math.copysign(1, float(body[i][1])) != math.copysign(1, want):
                problems.append("float %d: %r != %r" % (i, body[i][1], want))
        for i, h in enumerate(expected["doubles"]):
            want, got = float.fromhex(h) if h != "nan" else math.nan, float(body[i][2])
            ok = math.isnan(got) if math.isnan(want) else (got == want if math.isinf(want) else abs(got - want) <= 5e-9 * abs(want))
            if not ok: problems.append("double %d: %r != %r" % (i, body[i][2], want))
        for i, n in enumerate(expected["integers"]):
            if int(body[i][3]) != int(n): problems.append("int %d: %r != %r" % (i, body[i][3], n))
        for i in range(len(expected["texts"]), len(body)):
            if body[i][0] != "": problems.append("missing %d: %r" % (i, body[i][0]))
        print("\\n".join(problems) if problems else "ok %d rows" % len(body))
        sys.exit(1 if problems else 0)
        """
        let scriptURL = directory.appendingPathComponent("check_csv.py")
        try script.write(to: scriptURL, atomically: true, encoding: .utf8)
        let result = PythonStack.run(python, [scriptURL.path, csv.path, expectedURL.path])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.hasPrefix("ok \(Self.table().rows.count) rows"), result.output)
    }
}
