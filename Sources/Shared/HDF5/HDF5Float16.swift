/// IEEE half <-> Float / Double conversion in Swift, for the dataset reads and writes that
/// involve float16 (HDF5's own half conversion is wrong for subnormals; see HDF5DatasetIO).
/// `Float16(x)` rounds to nearest, ties to even, exactly like numpy's `astype(float16)`.
/// Raw pointers are bound to the element type the caller's `HDF5Element` declares.
enum Float16Conversion {
    static func halves(fromFloats source: UnsafeRawPointer, count: Int) -> [Float16] {
        let floats = UnsafeBufferPointer(start: source.assumingMemoryBound(to: Float.self), count: count)
        return [Float16](unsafeUninitializedCapacity: count) { halves, initialized in
            for i in 0..<count { halves[i] = Float16(floats[i]) }
            initialized = count
        }
    }

    static func halves(fromDoubles source: UnsafeRawPointer, count: Int) -> [Float16] {
        let doubles = UnsafeBufferPointer(start: source.assumingMemoryBound(to: Double.self), count: count)
        return [Float16](unsafeUninitializedCapacity: count) { halves, initialized in
            for i in 0..<count { halves[i] = Float16(doubles[i]) }
            initialized = count
        }
    }

    static func floats(fromHalves source: UnsafeRawPointer, count: Int) -> [Float] {
        let halves = UnsafeBufferPointer(start: source.assumingMemoryBound(to: Float16.self), count: count)
        return halves.map { Float($0) }
    }

    static func floats(fromHalves halves: [Float16], into destination: UnsafeMutableRawPointer) {
        let floats = destination.assumingMemoryBound(to: Float.self)
        for i in halves.indices { floats[i] = Float(halves[i]) }
    }

    static func doubles(fromHalves halves: [Float16], into destination: UnsafeMutableRawPointer) {
        let doubles = destination.assumingMemoryBound(to: Double.self)
        for i in halves.indices { doubles[i] = Double(halves[i]) }
    }

    static func halves(fromFloats floats: [Float], into destination: UnsafeMutableRawPointer) {
        let halves = destination.assumingMemoryBound(to: Float16.self)
        for i in floats.indices { halves[i] = Float16(floats[i]) }
    }

    static func halves(fromDoubles doubles: [Double], into destination: UnsafeMutableRawPointer) {
        let halves = destination.assumingMemoryBound(to: Float16.self)
        for i in doubles.indices { halves[i] = Float16(doubles[i]) }
    }
}
