import Foundation
import Shared
import TestSupport
import XCTest

final class SHA256Tests: XCTestCase {
    private func digest(_ text: String) -> String {
        var hasher = SHA256()
        hasher.update(Data(text.utf8))
        return hasher.finalize()
    }

    /// FIPS 180-4 examples (NIST's "SHA256.pdf" and the two-block message).
    func testKnownAnswers() {
        XCTAssertEqual(digest(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    func testPiecewiseUpdatesEqualOneUpdate() {
        let bytes = Data((0..<1000).map { UInt8(truncatingIfNeeded: $0 * 31) })
        var whole = SHA256()
        whole.update(bytes)
        var pieces = SHA256()
        for cut in stride(from: 0, to: bytes.count, by: 37) { pieces.update(bytes[cut..<min(cut + 37, bytes.count)]) }
        XCTAssertEqual(pieces.finalize(), whole.finalize())
    }

    func testDefaultModelHashIsTheOneSetupVerifies() throws {
        guard let model = Fixtures.defaultModel else { throw XCTSkip("default model not downloaded") }
        XCTAssertEqual(try SHA256.hexDigest(ofFile: model.path),
                       "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53")
    }
}
