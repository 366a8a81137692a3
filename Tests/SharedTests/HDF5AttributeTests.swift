import Shared
import XCTest

final class HDF5AttributeTests: XCTestCase {
    func testEveryAttributeKindRoundTripsOnFileGroupAndDataset() throws {
        let path = try temporaryHDF5Path()
        let file = try HDF5File.create(path)
        let group = try file.createGroup("sets/antonym")
        let dataset = try group.createDataset("z", of: .float32, shape: [2])
        for object in [file, group, dataset] as [any HDF5Object] {
            try object.setAttribute("model", "SmolLM2 — 135M")
            try object.setAttribute("layers", 30)
            try object.setAttribute("scale", 0.125)
            try object.setAttribute("heads", [0, 3, -7])
            try object.setAttribute("weights", [0.5, -1e-9])
            try object.setAttribute("words", ["hot", "cold", ""])
            try object.setAttribute("empty", [Int]())
        }
        try file.close()

        let reopened = try HDF5File.open(path)
        let objects: [any HDF5Object] = [reopened, try reopened.openGroup("sets/antonym"),
                                         try reopened.openDataset("sets/antonym/z")]
        for object in objects {
            XCTAssertEqual(try object.attributeNames(), ["empty", "heads", "layers", "model", "scale", "weights", "words"])
            XCTAssertEqual(try object.attribute("model", as: String.self), "SmolLM2 — 135M")
            XCTAssertEqual(try object.attribute("layers", as: Int.self), 30)
            XCTAssertEqual(try object.attribute("scale", as: Double.self), 0.125)
            XCTAssertEqual(try object.attribute("heads", as: [Int].self), [0, 3, -7])
            XCTAssertEqual(try object.attribute("weights", as: [Double].self), [0.5, -1e-9])
            XCTAssertEqual(try object.attribute("words", as: [String].self), ["hot", "cold", ""])
            XCTAssertEqual(try object.attribute("empty", as: [Int].self), [])
            XCTAssertEqual(try object.attribute("layers"), .int(30))
            XCTAssertEqual(try object.attribute("layers", as: Double.self), 30)
            XCTAssertEqual(try object.attribute("layers", as: [Int].self), [30])
            XCTAssertTrue(try object.hasAttribute("scale"))
            XCTAssertFalse(try object.hasAttribute("missing"))
        }
    }

    func testAttributeIsReplacedAndWrongTypeIsAnError() throws {
        let path = try temporaryHDF5Path("attrs.h5")
        let file = try HDF5File.create(path)
        try file.setAttribute("n", 1)
        try file.setAttribute("n", "one")
        XCTAssertEqual(try file.attribute("n", as: String.self), "one")
        XCTAssertThrowsError(try file.attribute("n", as: Int.self)) {
            XCTAssertTrue("\($0)".hasSuffix("attrs.h5: attribute 'n' of / is string(\"one\"), not Int"), "\($0)")
        }
        XCTAssertThrowsError(try file.attribute("missing")) {
            XCTAssertTrue("\($0)".contains("attrs.h5: cannot read attribute 'missing' of /"), "\($0)")
        }
        try file.close()
        XCTAssertThrowsError(try HDF5File.open(path).setAttribute("n", 2)) {
            XCTAssertTrue("\($0)".contains("file is open read-only"), "\($0)")
        }
    }

    func testGroupsNestListAndExist() throws {
        let path = try temporaryHDF5Path()
        let file = try HDF5File.create(path)
        let antonym = try file.createGroup("sets/antonym")
        XCTAssertEqual(antonym.path, "/sets/antonym")
        _ = try file.createGroup("/sets/synonym")
        _ = try antonym.createDataset("z", of: .float16, shape: [1, 2])
        _ = try antonym.createDataset("done", of: .uint8, shape: [1])
        _ = try antonym.createGroup("extra")
        XCTAssertTrue(file.exists("sets/antonym/z"))
        XCTAssertTrue(antonym.exists("z"))
        XCTAssertFalse(file.exists("sets/missing/z"))
        XCTAssertFalse(antonym.exists("nothing"))

        XCTAssertEqual(try file.openGroup("sets").members(), [
            HDF5Member(name: "antonym", kind: .group), HDF5Member(name: "synonym", kind: .group),
        ])
        XCTAssertEqual(try antonym.members().map(\.name), ["done", "extra", "z"])
        XCTAssertEqual(try antonym.members(.dataset).map(\.name), ["done", "z"])
        XCTAssertEqual(try antonym.members(.group).map(\.name), ["extra"])
        XCTAssertEqual(try file.openGroup("sets").openGroup("antonym").openDataset("z").path, "/sets/antonym/z")
        XCTAssertThrowsError(try file.createGroup("sets/antonym"))
    }
}
