/// Where each sequence of a packed batch sits. Sequences are stored back to back (no padding):
/// sequence b occupies rows [rowStart, rowStart + tokenCount) of every [N, ...] activation, and
/// its first new token has position `pastLength` (the tokens already in its KV cache).
public struct SequenceSpan: Sendable, Equatable {
    public let rowStart: Int
    public let tokenCount: Int
    public let pastLength: Int

    /// Keys each of this call's queries can reach at most: P + T.
    public var keyCount: Int { pastLength + tokenCount }
}

public struct BatchLayout: Sendable, Equatable {
    public let sequences: [SequenceSpan]

    /// N, the rows of every packed activation.
    public var tokenCount: Int { sequences.last.map { $0.rowStart + $0.tokenCount } ?? 0 }
}

/// An activation handed to a hook. `values` is valid only during the call; for every point but
/// `attnPattern`, writing into it changes the rest of the forward pass (ablation, patching,
/// steering).
public struct HookTensor {
    public let point: HookPoint
    /// Row-major shape, e.g. [N, H, E] for z.
    public let shape: [Int]
    public let values: UnsafeMutableBufferPointer<Float>
    public let layout: BatchLayout
    /// The sequence index for per-sequence points (attnPattern); nil for packed [N, ...] points.
    public let sequence: Int?
}

/// Hook bodies by point. A forward pass asks `isHooked` before preparing anything optional,
/// so unhooked points cost one dictionary lookup per layer. Not thread-safe: hooks run on the
/// thread that called the forward pass, in the order they were added.
public final class Hooks {
    public typealias Body = (HookTensor) -> Void

    private var bodies: [HookPoint: [Body]] = [:]

    public init() {}

    public func add(_ point: HookPoint, _ body: @escaping Body) {
        bodies[point, default: []].append(body)
    }

    /// A new Hooks with the same bodies: a pass adds its own to the copy, not to the caller's.
    public func copy() -> Hooks {
        let copy = Hooks()
        copy.bodies = bodies
        return copy
    }

    public func isHooked(_ point: HookPoint) -> Bool {
        bodies[point] != nil
    }

    func run(_ point: HookPoint, shape: [Int], values: UnsafeMutablePointer<Float>,
             layout: BatchLayout, sequence: Int? = nil) {
        guard let list = bodies[point] else { return }
        let count = shape.reduce(1, *)
        let tensor = HookTensor(point: point, shape: shape,
                                values: UnsafeMutableBufferPointer(start: values, count: count),
                                layout: layout, sequence: sequence)
        for body in list { body(tensor) }
    }
}
