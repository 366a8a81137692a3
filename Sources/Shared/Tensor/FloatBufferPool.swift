import Foundation

/// Scratch buffers kept for reuse across the passes of a long job (the analyzer's sets): a
/// fresh multi-megabyte buffer costs a page fault and a kernel page zeroing per 4 KiB on first
/// touch, which at one buffer per set and worker was a sixth of a report's time. A lease
/// hands its buffer back when it is released; the pool keeps at most as many buffers as were
/// ever leased at once.
public final class FloatBufferPool: @unchecked Sendable {
    private let lock = NSLock()
    private var free: [FloatBuffer] = []

    public init() {}

    /// A buffer of at least `count` floats, holding whatever its last user left (not zeroed).
    public func lease(_ count: Int) -> Lease {
        let reused: FloatBuffer? = lock.withLock {
            guard !free.isEmpty else { return nil }
            // The smallest buffer that fits; with none, the largest is dropped and a bigger one made.
            if let best = free.indices.filter({ free[$0].count >= count }).min(by: { free[$0].count < free[$1].count }) {
                return free.remove(at: best)
            }
            free.remove(at: free.indices.max(by: { free[$0].count < free[$1].count })!)
            return nil
        }
        return Lease(buffer: reused ?? FloatBuffer(count: count), pool: self)
    }

    /// `lease(count)` with its first `count` floats set to zero.
    public func zeroed(_ count: Int) -> Lease {
        let lease = lease(count)
        lease.pointer.update(repeating: 0, count: count)
        return lease
    }

    fileprivate func giveBack(_ buffer: FloatBuffer) {
        lock.withLock { free.append(buffer) }
    }

    /// One buffer on loan; it returns to the pool when the lease is released.
    public final class Lease: @unchecked Sendable {
        public let buffer: FloatBuffer
        private let pool: FloatBufferPool

        fileprivate init(buffer: FloatBuffer, pool: FloatBufferPool) {
            self.buffer = buffer
            self.pool = pool
        }

        public var pointer: UnsafeMutablePointer<Float> { buffer.pointer }

        deinit { pool.giveBack(buffer) }
    }
}
