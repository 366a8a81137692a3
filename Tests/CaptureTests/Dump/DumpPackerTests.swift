import Capture
import Foundation
import Shared
import TestSupport
import XCTest

/// A packed dump holds the same datasets, values, attributes and named dimensions, compressed.
final class DumpPackerTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pack-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    private func capture(dtype: CaptureConfiguration.ActivationType) throws -> String {
        let path = directory.appendingPathComponent("dump-\(dtype).h5").path
        try TinyCapture.write(to: path, configuration: TinyCapture.configuration(dtype: dtype))
        return path
    }

    private func datasets(_ container: some HDF5Container, _ prefix: String = "") throws -> [String] {
        var names: [String] = []
        for member in try container.members() {
            let path = prefix + "/" + member.name
            if member.kind == .group { names += try datasets(try container.openGroup(member.name), path) }
            if member.kind == .dataset { names.append(path) }
        }
        return names
    }

    func testPackedCopyHasTheSameContentCompressed() throws {
        for dtype in CaptureConfiguration.ActivationType.allCases {
            let source = try capture(dtype: dtype)
            let packedPath = directory.appendingPathComponent("packed-\(dtype).h5").path
            try DumpPacker.pack(source, into: packedPath, level: 6)
            let original = try HDF5File.open(source), packed = try HDF5File.open(packedPath)
            let names = try datasets(original)
            XCTAssertEqual(try datasets(packed), names)
            XCTAssertTrue(names.contains("/sets/antonym.clean.k2.qa/z"), "\(names)")
            for name in names {
                let a = try original.openDataset(String(name.dropFirst())), b = try packed.openDataset(String(name.dropFirst()))
                XCTAssertEqual(a.shape, b.shape, name)
                XCTAssertEqual(a.elementType, b.elementType, name)
                XCTAssertEqual(try a.dimensionLabels(), try b.dimensionLabels(), name)
                switch a.elementType {
                case .variableLengthString: XCTAssertEqual(try a.readStrings(), try b.readStrings(), name)
                default:
                    let x = try a.read(as: Float.self), y = try b.read(as: Float.self)
                    XCTAssertEqual(x.map(\.bitPattern), y.map(\.bitPattern), name)
                }
            }
            XCTAssertEqual(try original.attributeNames(), try packed.attributeNames())
            XCTAssertEqual(try packed.attribute("capture_config", as: String.self),
                           try original.attribute("capture_config", as: String.self))
            XCTAssertEqual(try DumpChecksum.verify(packedPath), .verified(try SHA256.hexDigest(ofFile: packedPath)))
            let check = try CaptureTool.sha256sumCheck(packedPath)
            XCTAssertEqual(check.status, 0, check.output)
            XCTAssertTrue(check.output.contains("packed-\(dtype).h5: OK"), check.output)
        }
    }

    func testADamagedSourceIsRefusedBeforeHDF5ReadsIt() throws {
        let source = try capture(dtype: .f32)
        let damaged = directory.appendingPathComponent("damaged.h5").path
        var bytes = try Data(contentsOf: URL(fileURLWithPath: source))
        bytes[bytes.count / 2] ^= 0x10
        try bytes.write(to: URL(fileURLWithPath: damaged))
        try FileManager.default.copyItem(atPath: DumpChecksum.path(for: source), toPath: DumpChecksum.path(for: damaged))
        let packed = directory.appendingPathComponent("packed.h5").path
        XCTAssertThrowsError(try DumpPacker.pack(damaged, into: packed, level: 4)) { error in
            XCTAssertEqual((error as? InputError)?.file, damaged)
            XCTAssertTrue((error as? InputError)?.problem.contains("checksum") ?? false, "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: packed))
        XCTAssertFalse(FileManager.default.fileExists(atPath: DumpChecksum.path(for: packed)))
    }

    func testPackingSomethingElseIsRefused() throws {
        let notADump = directory.appendingPathComponent("plain.h5").path
        let file = try HDF5File.create(notADump)
        try file.close()
        XCTAssertThrowsError(try DumpPacker.pack(notADump, into: directory.appendingPathComponent("x.h5").path, level: 4)) { error in
            XCTAssertEqual((error as? InputError)?.file, notADump)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("x.h5").path))
    }
}
