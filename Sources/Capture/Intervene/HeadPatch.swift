import Shared

// Legend: N = packed tokens, H = heads, E = head_dim.

/// Replaces one head's z (the input of o_proj, docs/methods.md §1.2) with zero or a given
/// vector: the intervention every ablation and patching of this tool is made of.
public struct HeadPatch: Sendable, Equatable {
    public let layer: Int
    public let head: Int
    /// [E], or nil for zero.
    public let values: [Float]?

    public init(layer: Int, head: Int, values: [Float]?) {
        self.layer = layer
        self.head = head
        self.values = values
    }
}

extension Hooks {
    /// Hooks that apply `patches[b]` to sequence b of a forward pass: at each patched layer's
    /// z, the head's slice of the sequence's last token (`allPositions` false) or of every
    /// token of the sequence (true) is overwritten.
    public static func patching(_ patches: [[HeadPatch]], headCount h: Int, headDim e: Int,
                                allPositions: Bool) -> Hooks {
        let hooks = Hooks()
        var byLayer: [Int: [(sequence: Int, patch: HeadPatch)]] = [:]
        for (b, list) in patches.enumerated() {
            for patch in list { byLayer[patch.layer, default: []].append((b, patch)) }
        }
        for (layer, list) in byLayer {
            hooks.add(.z(layer)) { tensor in
                // tensor: [N, H, E] over the sequences in the stack at this layer
                let spans = tensor.layout.sequences
                for (b, patch) in list where b < spans.count {
                    let span = spans[b]
                    let first = allPositions ? span.rowStart : span.rowStart + span.tokenCount - 1
                    for row in first..<(span.rowStart + span.tokenCount) {
                        let slice = tensor.values.baseAddress! + (row * h + patch.head) * e
                        if let values = patch.values {
                            values.withUnsafeBufferPointer { slice.update(from: $0.baseAddress!, count: e) }
                        } else {
                            slice.update(repeating: 0, count: e)
                        }
                    }
                }
            }
        }
        return hooks
    }
}
