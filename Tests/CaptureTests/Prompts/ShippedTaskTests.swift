import Capture
import Foundation
import TestSupport
import Shared
import XCTest

/// The task files in tasks/ and their documentation.
final class ShippedTaskTests: XCTestCase {
    private let readme = Fixtures.repositoryRoot.appendingPathComponent("tasks/README.md")

    func testEveryShippedTaskLoadsWithBothKindsPresent() throws {
        let tasks = try PromptTestTasks.catalog.loadAll()
        XCTAssertGreaterThanOrEqual(tasks.count, 18)
        XCTAssertGreaterThanOrEqual(tasks.filter { $0.kind == .classification }.count, 4)
        XCTAssertGreaterThanOrEqual(tasks.filter { $0.kind == .open }.count, 9)
        for task in tasks {
            XCTAssertFalse(task.source.isEmpty, task.name)
            XCTAssertGreaterThanOrEqual(task.pairs.count, 50, task.name)
            XCTAssertLessThanOrEqual(task.pairs.count, 1000, task.name)
        }
    }

    func testEveryShippedTaskBuildsEveryVariantItAllows() throws {
        for task in try PromptTestTasks.catalog.loadAll() {
            let builder = PromptBuilder(task: task)
            for variant in PromptVariant.allCases where variant != .abstractLabels || task.kind == .classification {
                let set = try builder.build(PromptSetSpec(task: task.name, variant: variant, shots: 5, count: 4, seed: 7))
                XCTAssertEqual(set.prompts.count, 4, "\(task.name) \(variant)")
            }
        }
    }

    func testReadmeTableListsEveryTaskWithItsCountKindAndTemplate() throws {
        let text = try String(contentsOf: readme, encoding: .utf8)
        var rows: [String: [String]] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("| ") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            if cells.count == 6 { rows[cells[0]] = cells }
        }
        for task in try PromptTestTasks.catalog.loadAll() {
            let row = try XCTUnwrap(rows[task.name], "tasks/README.md has no row for \(task.name)")
            XCTAssertEqual(row[1], task.kind.rawValue, task.name)
            XCTAssertEqual(row[2], String(task.pairs.count), task.name)
            XCTAssertEqual(row[4], task.defaultTemplate, task.name)
        }
    }

    func testReadmeListsEveryBuiltInTemplate() throws {
        let text = try String(contentsOf: readme, encoding: .utf8)
        for template in PromptTemplate.builtIn {
            let shownInput = template.input.replacingOccurrences(of: "\n", with: "\\n")
            XCTAssertTrue(text.contains("| \(template.name) | `\(shownInput)` |"), "README lacks template \(template.name)")
        }
    }
}
