import XCTest
import TestSupport

/// `icl-analyze report DUMP --out OUT` refuses `dump`: exit 1, one line naming it and saying
/// `problem`, and no report folder left behind.
func assertReportRefused(_ dump: String, out: String, says problem: String,
                         file: StaticString = #filePath, line: UInt = #line) throws {
    let result = try CommandLineTool.run("icl-analyze", ["report", dump, "--out", out])
    XCTAssertEqual(result.status, 1, result.standardError, file: file, line: line)
    XCTAssertEqual(result.standardError.split(separator: "\n").count, 1, result.standardError, file: file, line: line)
    XCTAssertTrue(result.standardError.contains(dump), result.standardError, file: file, line: line)
    XCTAssertTrue(result.standardError.contains(problem), "does not say \(problem): \(result.standardError)", file: file, line: line)
    XCTAssertFalse(FileManager.default.fileExists(atPath: out), "a refused report leaves no folder", file: file, line: line)
}
