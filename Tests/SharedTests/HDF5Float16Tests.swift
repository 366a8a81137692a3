import Shared
import XCTest

/// Float -> half conversion on write must match Swift's `Float16(x)` (round to nearest,
/// ties to even) bit for bit, including the cases HDF5 1.10's own conversion gets wrong:
/// ties, subnormals, overflow to infinity.
final class HDF5Float16Tests: XCTestCase {
    func testFloatWritesRoundLikeSwiftFloat16() throws {
        let values = Self.hardCases()
        let path = try temporaryHDF5Path()
        let file = try HDF5File.create(path)
        try file.createDataset("h", of: .float16, shape: [values.count]).write(values)
        try file.createDataset("d", of: .float16, shape: [values.count]).write(values.map(Double.init))
        try file.close()

        let reopened = try HDF5File.open(path)
        for name in ["h", "d"] {
            let stored = try reopened.openDataset(name).read(as: Float16.self)
            var mismatches = 0
            for (value, half) in zip(values, stored) where !Self.sameHalf(half, Float16(value)) {
                if mismatches < 5 { print("\(name): \(value) stored as \(half), Float16 gives \(Float16(value))") }
                mismatches += 1
            }
            XCTAssertEqual(mismatches, 0, "\(name): \(mismatches) of \(values.count) values rounded differently")
        }
    }

    /// Half -> Float is exact, so every finite half comes back as itself.
    func testEveryHalfReadsBackExactlyAsFloat() throws {
        let halves = (0...UInt16.max).map { Float16(bitPattern: $0) }
        let path = try temporaryHDF5Path()
        let dataset = try HDF5File.create(path).createDataset("h", of: .float16, shape: [halves.count])
        try dataset.write(halves)
        let floats = try dataset.read(as: Float.self)
        for (half, float) in zip(halves, floats) where !(half.isNaN && float.isNaN) {
            XCTAssertEqual(float.bitPattern, Float(half).bitPattern, "\(half)")
        }
    }

    /// Each finite half, the exact midpoints to its neighbours (ties) and the floats just
    /// either side of them, in both signs; plus overflow, infinities and NaN.
    static func hardCases() -> [Float] {
        var values: [Float] = [65504, 65519.99, 65520, 70000, .infinity, -.infinity, .nan, 1e-8, 2.9802322e-8, 2.9802326e-8]
        for bits in UInt16(0)..<0x7BFF {
            let low = Float(Float16(bitPattern: bits)), high = Float(Float16(bitPattern: bits + 1))
            let middle = (low + high) / 2
            for value in [low, middle, middle.nextDown, middle.nextUp] { values += [value, -value] }
        }
        return values
    }

    static func sameHalf(_ a: Float16, _ b: Float16) -> Bool {
        a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN)
    }
}
