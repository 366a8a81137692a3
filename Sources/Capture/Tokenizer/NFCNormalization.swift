import Foundation

/// HF's NFC normalizer together with the alignment it records, so that offsets point into the
/// text before normalization.
///
/// HF (the unicode-normalization-alignments crate) tags each character of the canonical
/// decomposition with a change: 0 for the first character a source character decomposes into,
/// +1 for each further one. Combining marks are reordered with their tags, and a mark composed
/// into a starter adds its tag − 1 to the starter's. HF then walks the result: a character with a
/// change ≤ 0 comes from the next original character and skips −change more; one with a positive
/// change comes from the previous original character. So a composed character covers only the
/// first character it was made from (e + U+0301 → é covers the "e"; no token covers the U+0301),
/// and all parts of a decomposed character cover it. Checked against HF on 20,000 random strings
/// of composing characters: the only differences are marks newer than HF's Unicode tables.
enum NFCNormalization {
    static func normalize(_ text: String) -> (String, TextAlignment) {
        if isNormalized(text) { return (text, TextAlignment(identity: text.utf8.count)) }
        // Normalization never reaches across a grapheme cluster boundary, so clusters are done one
        // by one, and those of characters below U+0300 alone stay as they are.
        var result = String.UnicodeScalarView()
        var alignment = TextAlignment()
        var offset = 0
        for character in text {
            let original = Array(character.unicodeScalars)
            let width = character.utf8.count
            let composed = original.contains { $0.value >= 0x300 } ? composeTagged(original) : nil
            if let composed, composed.map(\.scalar) != original {
                result.append(contentsOf: composed.map(\.scalar))
                appendSources(of: composed, from: original, at: offset, to: &alignment)
            } else {
                result.append(contentsOf: original)
                alignment.append(normalizedLength: width, original: offset..<offset + width)
            }
            offset += width
        }
        return (String(result), alignment)
    }

    private struct Element {
        var scalar: Unicode.Scalar
        var change: Int
    }

    /// The NFC of one grapheme cluster, each character tagged with its change.
    private static func composeTagged(_ original: [Unicode.Scalar]) -> [Element] {
        var decomposed = [Element]()
        for scalar in original {
            for (index, part) in String(scalar).decomposedStringWithCanonicalMapping.unicodeScalars.enumerated() {
                decomposed.append(Element(scalar: part, change: index == 0 ? 0 : 1))
            }
        }
        // Canonical order: each run of marks sorted by combining class, keeping equal classes in order.
        var start = 0
        while start < decomposed.count {
            var end = start
            while end < decomposed.count, combiningClass(decomposed[end].scalar) != 0 { end += 1 }
            if end > start {
                let run = decomposed[start..<end].enumerated().sorted {
                    (combiningClass($0.element.scalar), $0.offset) < (combiningClass($1.element.scalar), $1.offset)
                }
                decomposed.replaceSubrange(start..<end, with: run.map(\.element))
            }
            start = end + 1
        }
        // Canonical composition: a character joins the last starter unless something between blocks it.
        var composed = [Element]()
        var starter: Int?
        var lastClass: UInt8?  // of the last character kept after the starter; nil right after it
        for element in decomposed {
            let elementClass = combiningClass(element.scalar)
            if let starter, lastClass.map({ $0 < elementClass }) ?? true,
               let pair = composite(composed[starter].scalar, element.scalar) {
                composed[starter].scalar = pair
                composed[starter].change += element.change - 1
                continue
            }
            if elementClass == 0 {
                starter = composed.count
                lastClass = nil
            } else {
                lastClass = elementClass
            }
            composed.append(element)
        }
        return composed
    }

    /// HF's walk: each run of normalized characters from the same original character is one span.
    private static func appendSources(of composed: [Element], from original: [Unicode.Scalar], at offset: Int,
                                      to alignment: inout TextAlignment) {
        var bounds = [offset]
        for scalar in original { bounds.append(bounds[bounds.count - 1] + UTF8.width(scalar)) }
        var next = 0
        var runSource = -1, runWidth = 0
        for element in composed {
            let source: Int
            if element.change > 0 {
                source = max(next - 1, 0)
            } else {
                source = min(next, original.count - 1)
                next += 1 - element.change
            }
            if source != runSource, runWidth > 0 {
                alignment.append(normalizedLength: runWidth, original: bounds[runSource]..<bounds[runSource + 1])
                runWidth = 0
            }
            runSource = source
            runWidth += UTF8.width(element.scalar)
        }
        alignment.append(normalizedLength: runWidth, original: bounds[runSource]..<bounds[runSource + 1])
    }

    private static func combiningClass(_ scalar: Unicode.Scalar) -> UInt8 {
        scalar.properties.canonicalCombiningClass.rawValue
    }

    /// Whether NFC leaves `text` as it is. Characters below U+0300 (UTF-8 bytes below 0xCC) are
    /// their own NFC and compose with nothing. Otherwise Foundation decides, except that its NFC
    /// leaves a precomposed character apart from a starter that composes with it: a Hangul LV
    /// syllable from a trailing jamo (U+11A8–U+11C2), U+0CCA from U+0CD5 (found against Python's
    /// NFC on all such pairs); text with those starters is normalized here.
    private static func isNormalized(_ text: String) -> Bool {
        if text.utf8.allSatisfy({ $0 < 0xCC }) { return true }
        var text = text, normalized = text.precomposedStringWithCanonicalMapping
        return text.withUTF8 { original in
            normalized.withUTF8 { original.count == $0.count && memcmp(original.baseAddress!, $0.baseAddress!, $0.count) == 0 }
                && !holdsStarterFoundationMisses(original)
        }
    }

    private static func holdsStarterFoundationMisses(_ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        // Characters from U+0800 to U+1FFF are three bytes, the first 0xE0 or 0xE1.
        for index in utf8.indices where utf8[index] & 0xFE == 0xE0 && index + 2 < utf8.count {
            let scalar = UInt32(utf8[index] & 0x0F) << 12 | UInt32(utf8[index + 1] & 0x3F) << 6 | UInt32(utf8[index + 2] & 0x3F)
            if (0x11A8...0x11C2).contains(scalar) || scalar == 0x0CD5 { return true }
        }
        return false
    }

    /// The primary composite of two characters, if any (from `first` decomposed, which Foundation
    /// composes right).
    private static func composite(_ first: Unicode.Scalar, _ second: Unicode.Scalar) -> Unicode.Scalar? {
        var pair = String(first).decomposedStringWithCanonicalMapping
        pair.unicodeScalars.append(second)
        let composed = pair.precomposedStringWithCanonicalMapping.unicodeScalars
        return composed.count == 1 ? composed.first : nil
    }
}
