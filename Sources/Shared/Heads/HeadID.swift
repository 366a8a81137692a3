/// One attention head: layer and head index within the layer.
public struct HeadID: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let layer: Int
    public let head: Int

    public init(layer: Int, head: Int) {
        self.layer = layer
        self.head = head
    }

    /// Head `index` of the flat [layer * heads + head] order the score vectors use.
    public init(index: Int, heads: Int) {
        self.init(layer: index / heads, head: index % heads)
    }

    public static func < (a: HeadID, b: HeadID) -> Bool { (a.layer, a.head) < (b.layer, b.head) }
    public var description: String { "L\(layer)H\(head)" }

    /// Encoded as [layer, head], the form `icl-analyze heads --json` writes and reads.
    public init(from decoder: Decoder) throws {
        var container = try decoder.unkeyedContainer()
        layer = try container.decode(Int.self)
        head = try container.decode(Int.self)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.unkeyedContainer()
        try container.encode(layer)
        try container.encode(head)
    }
}
