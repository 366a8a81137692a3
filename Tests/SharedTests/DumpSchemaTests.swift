import Foundation
import Shared
import TestSupport
import XCTest

/// schemas/ is the contract with Python users: it must be exactly what DumpLayout says.
final class DumpSchemaTests: XCTestCase {
    private func committed(_ name: String) throws -> String {
        try String(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("schemas/\(name)"), encoding: .utf8)
    }

    func testCommittedSchemasAreGeneratedFromTheLayout() throws {
        let major = DumpSchema.majorVersion
        XCTAssertEqual(try committed("dump-v\(major).json"), DumpSchema.json,
                       "regenerate with: icl-capture schema > schemas/dump-v\(major).json")
        XCTAssertEqual(try committed("dump-v\(major).md"), DumpSchema.markdown,
                       "regenerate with: icl-capture schema --markdown > schemas/dump-v\(major).md")
    }

    func testTheChangelogNamesTheCurrentVersion() throws {
        XCTAssertTrue(try committed("CHANGELOG.md").contains("## \(DumpFormat.version)"))
    }

    func testEveryDatasetDimensionIsDeclaredInItsGroupOrTheRoot() {
        let rootDimensions = Set(DumpLayout.root.dimensions.map(\.name))
        for group in DumpLayout.allGroups {
            // A group also sees the dimensions of the groups it sits in (an intervention's sets).
            let enclosing = DumpLayout.allGroups.filter { group.path.hasPrefix($0.path + "/") }.flatMap(\.dimensions)
            let known = rootDimensions.union(group.dimensions.map(\.name)).union(enclosing.map(\.name))
            for dataset in group.datasets {
                for dimension in dataset.dimensions {
                    XCTAssertTrue(known.contains(dimension), "\(group.path)/\(dataset.name): undeclared dimension \(dimension)")
                }
            }
        }
    }

    /// Names outside readers rely on, fixed by the capture issue.
    func testFixedDatasetNamesAndDimensions() {
        XCTAssertEqual(DumpLayout.model.dataset("W_O")?.dimensions, ["layer", "head", "d_head", "d_model"])
        XCTAssertEqual(DumpLayout.model.dataset("final_norm_weight")?.dimensions, ["d_model"])
        XCTAssertEqual(DumpLayout.model.dataset("unembed_ids")?.dimensions, ["unembed_row"])
        XCTAssertEqual(DumpLayout.model.dataset("unembed")?.dimensions, ["unembed_row", "d_model"])
        let set = DumpLayout.promptSet
        XCTAssertEqual(set.dataset("z")?.dimensions, ["prompt", "position", "layer", "head", "d_head"])
        XCTAssertEqual(set.dataset("resid")?.dimensions, ["prompt", "position", "resid_layer", "d_model"])
        XCTAssertEqual(set.dataset("final_norm_scale")?.dimensions, ["prompt", "position"])
        XCTAssertEqual(set.dataset("label_ids")?.dimensions, ["label"])
        XCTAssertEqual(set.dataset("label_logits")?.dimensions, ["prompt", "label"])
        XCTAssertEqual(set.dataset("gold")?.dimensions, ["prompt"])
        XCTAssertEqual(set.dataset("gold_token")?.dimensions, ["prompt"])
    }
}
