/// HF's decoder chain: each step rewrites the list of token strings, and the result is joined.
struct TokenDecoder: Sendable {
    enum Step: Sendable, Equatable {
        /// Byte-level pieces back to bytes, then UTF-8 (invalid sequences become U+FFFD).
        case byteLevel
        case replace(String, with: String)
        /// `<0xNN>` tokens back to bytes; a run that is not valid UTF-8 becomes one U+FFFD per byte.
        case byteFallback
        case fuse
        /// Removes up to `start` leading and `stop` trailing `content` characters from each piece.
        case strip(content: Unicode.Scalar, start: Int, stop: Int)
        /// The old Metaspace decoder: `replacement` becomes a space, dropped in the first piece
        /// when the tokenizer adds a prefix space.
        case metaspace(replacement: Unicode.Scalar, dropsPrefix: Bool)
    }

    var steps: [Step]

    func decode(_ pieces: [String]) -> String {
        var pieces = pieces
        for step in steps {
            pieces = apply(step, to: pieces)
        }
        return pieces.joined()
    }

    private func apply(_ step: Step, to pieces: [String]) -> [String] {
        switch step {
        case .byteLevel:
            var bytes = [UInt8]()
            for piece in pieces {
                bytes += ByteLevelEncoding.decode(piece) ?? Array(piece.utf8)
            }
            return [String(decoding: bytes, as: UTF8.self)]
        case let .replace(pattern, replacement):
            return pieces.map { $0.replacingAll(pattern, with: replacement) }
        case .byteFallback:
            return Self.fallBackToBytes(pieces)
        case .fuse:
            return [pieces.joined()]
        case let .strip(content, start, stop):
            return pieces.map { piece in
                var scalars = Substring(piece).unicodeScalars
                for _ in 0..<start where scalars.first == content { scalars.removeFirst() }
                for _ in 0..<stop where scalars.last == content { scalars.removeLast() }
                return String(scalars)
            }
        case let .metaspace(replacement, dropsPrefix):
            return pieces.enumerated().map { index, piece in
                var scalars = String.UnicodeScalarView()
                for scalar in piece.unicodeScalars {
                    if scalar != replacement {
                        scalars.append(scalar)
                    } else if index > 0 || !dropsPrefix {
                        scalars.append(" ")
                    }
                }
                return String(scalars)
            }
        }
    }

    private static func fallBackToBytes(_ pieces: [String]) -> [String] {
        var output = [String]()
        var pendingBytes = [UInt8]()
        func flush() {
            guard !pendingBytes.isEmpty else { return }
            if let text = validUTF8String(pendingBytes) {
                output.append(text)
            } else {
                output += Array(repeating: "\u{FFFD}", count: pendingBytes.count)
            }
            pendingBytes.removeAll()
        }
        for piece in pieces {
            if let byte = byteTokenValue(piece) {
                pendingBytes.append(byte)
            } else {
                flush()
                output.append(piece)
            }
        }
        flush()
        return output
    }
}

extension String {
    /// Every occurrence of `pattern` replaced, comparing Unicode scalars as HF does (not
    /// Characters, which would miss a "▁" that a combining mark follows).
    func replacingAll(_ pattern: String, with replacement: String) -> String {
        let target = Array(pattern.unicodeScalars)
        let scalars = Array(unicodeScalars)
        guard !target.isEmpty, scalars.count >= target.count else { return self }
        var result = String.UnicodeScalarView()
        var index = 0
        while index < scalars.count {
            if scalars[index] == target[0], index + target.count <= scalars.count,
               scalars[index..<index + target.count].elementsEqual(target) {
                result.append(contentsOf: replacement.unicodeScalars)
                index += target.count
            } else {
                result.append(scalars[index])
                index += 1
            }
        }
        return String(result)
    }
}
