import Shared

/// The symbols abstract labels use.
public enum AbstractSymbols: String, Sendable, Hashable, Codable, CaseIterable {
    /// "A", "B", ... (at most 26 labels). The default: with SmolLM2's tokenizer " A" is one
    /// token while " 0" is a bare space followed by the digit.
    case letters
    /// "0", "1", ...
    case numbers

    /// The first `count` symbols.
    public func symbols(_ count: Int) throws -> [String] {
        switch self {
        case .letters:
            guard count <= 26 else { throw InputError(file: nil, "\(count) labels are more than the 26 letters") }
            return (0..<count).map { String(UnicodeScalar(UInt8(ascii: "A") + UInt8($0))) }
        case .numbers:
            return (0..<count).map(String.init)
        }
    }
}
