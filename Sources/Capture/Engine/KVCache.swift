import Shared

/// The keys (after RoPE) and values of one sequence's past tokens, for every layer, so that
/// generation feeds one new token per step instead of the whole sequence again.
/// keys, values: [layer, capacity, K * E]
public final class KVCache {
    public let layerCount: Int
    /// K * E: one token's keys (or values) in one layer.
    public let width: Int
    /// Tokens stored in every layer.
    public private(set) var length = 0
    private(set) var capacity: Int
    private var keys: FloatBuffer
    private var values: FloatBuffer

    public init(config: ModelConfig, reservedTokens: Int = 64) {
        layerCount = config.layerCount
        width = config.kvHeadCount * config.headDim
        capacity = max(1, reservedTokens)
        keys = FloatBuffer(count: layerCount * capacity * width)
        values = FloatBuffer(count: layerCount * capacity * width)
    }

    /// A new cache holding the same tokens, with room for `reservedTokens` in all: one shared
    /// prefix continued separately by many sequences (generation under interventions).
    public func copy(reservingTokens reservedTokens: Int) -> KVCache {
        let copy = KVCache(layerCount: layerCount, width: width, capacity: max(reservedTokens, length, 1))
        for l in 0..<layerCount {
            copy.keys(layer: l).update(from: keys(layer: l), count: length * width)
            copy.values(layer: l).update(from: values(layer: l), count: length * width)
        }
        copy.length = length
        return copy
    }

    private init(layerCount: Int, width: Int, capacity: Int) {
        self.layerCount = layerCount
        self.width = width
        self.capacity = capacity
        keys = FloatBuffer(count: layerCount * capacity * width)
        values = FloatBuffer(count: layerCount * capacity * width)
    }

    /// Makes room for `total` tokens, keeping what is stored.
    func reserve(_ total: Int) {
        guard total > capacity else { return }
        let newCapacity = max(total, capacity * 2)
        let newKeys = FloatBuffer(count: layerCount * newCapacity * width)
        let newValues = FloatBuffer(count: layerCount * newCapacity * width)
        for l in 0..<layerCount {
            newKeys.pointer.advanced(by: l * newCapacity * width)
                .update(from: keys.pointer.advanced(by: l * capacity * width), count: length * width)
            newValues.pointer.advanced(by: l * newCapacity * width)
                .update(from: values.pointer.advanced(by: l * capacity * width), count: length * width)
        }
        keys = newKeys
        values = newValues
        capacity = newCapacity
    }

    /// Keys of layer l from position 0: [capacity, K * E]
    func keys(layer: Int) -> UnsafeMutablePointer<Float> {
        keys.pointer + layer * capacity * width
    }

    /// Values of layer l from position 0: [capacity, K * E]
    func values(layer: Int) -> UnsafeMutablePointer<Float> {
        values.pointer + layer * capacity * width
    }

    /// Records that `count` more tokens are stored in every layer (after the forward pass).
    func advance(by count: Int) {
        length += count
    }

    /// Forgets everything after the first `count` tokens (e.g. to reuse a shared prefix).
    public func truncate(to count: Int) {
        length = min(length, max(0, count))
    }
}
