/// GPT-2's reversible map between bytes and printable Unicode characters: byte-level BPE
/// vocabularies spell every byte as one of these 256 characters (a space is "Ġ", a newline "Ċ").
enum ByteLevelEncoding {
    /// The character for each byte value.
    static let scalarForByte: [Unicode.Scalar] = {
        var printable = Set<UInt8>()
        for range in [0x21...0x7E, 0xA1...0xAC, 0xAE...0xFF] as [ClosedRange<UInt8>] {
            printable.formUnion(range)
        }
        var next: UInt32 = 256
        return (0...255).map { (byte: UInt8) -> Unicode.Scalar in
            if printable.contains(byte) { return Unicode.Scalar(byte) }
            defer { next += 1 }
            return Unicode.Scalar(next)!
        }
    }()

    /// The byte for each of the 256 characters.
    static let byteForScalar: [Unicode.Scalar: UInt8] = {
        var map = [Unicode.Scalar: UInt8]()
        for (byte, scalar) in scalarForByte.enumerated() { map[scalar] = UInt8(byte) }
        return map
    }()

    /// The vocabulary spelling of raw bytes.
    static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var view = String.UnicodeScalarView()
        for byte in bytes { view.append(scalarForByte[Int(byte)]) }
        return String(view)
    }

    /// The bytes a vocabulary spelling stands for; nil when a character is outside the alphabet.
    static func decode(_ piece: String) -> [UInt8]? {
        var bytes = [UInt8]()
        bytes.reserveCapacity(piece.unicodeScalars.count)
        for scalar in piece.unicodeScalars {
            guard let byte = byteForScalar[scalar] else { return nil }
            bytes.append(byte)
        }
        return bytes
    }
}
