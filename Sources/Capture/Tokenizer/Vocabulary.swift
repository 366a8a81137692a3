/// Token ids by vocabulary spelling, compared byte for byte. Swift's `String` equality treats
/// canonically equivalent text as equal ("e\u{301}" == "é"), while HF and llama.cpp look pieces
/// up by their exact bytes, so a `[String: Int32]` would find tokens the reference does not.
struct Vocabulary: Sendable {
    private struct Key: Hashable, Sendable {
        var text: String

        static func == (a: Key, b: Key) -> Bool {
            a.text.utf8.elementsEqual(b.text.utf8)
        }

        func hash(into hasher: inout Hasher) {
            var text = text
            text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        }
    }

    private var ids: [Key: Int32]

    /// Later entries win over earlier ones with the same spelling, as in a Python dict.
    init<S: Sequence>(_ entries: S) where S.Element == (String, Int32) {
        ids = [:]
        ids.reserveCapacity(entries.underestimatedCount)
        for (piece, id) in entries { ids[Key(text: piece)] = id }
    }

    subscript(_ piece: String) -> Int32? {
        ids[Key(text: piece)]
    }
}
