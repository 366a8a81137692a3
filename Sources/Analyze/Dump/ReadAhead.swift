import Foundation

/// Keeps the disk busy while the workers compute: a background thread asks the kernel to start
/// reading the bytes of the next chunks (posix_fadvise WILLNEED) at most `depth` chunks ahead of
/// the furthest chunk a worker has taken. Without it, a cold file is read only while a worker
/// waits in `pread`, and the disk idles whenever every worker is computing. The pages go to the
/// page cache, not to this process's memory.
final class ReadAhead: @unchecked Sendable {
    /// One contiguous byte range of a file.
    struct Range {
        let descriptor: Int32
        let offset: Int
        let length: Int
    }

    private let condition = NSCondition()
    private var taken = 0
    private var stopped = false
    private let finished = DispatchSemaphore(value: 0)

    /// `ranges(c)`: the bytes chunk c reads (empty where they do not come straight from a file).
    init(chunks: Int, depth: Int = 8, ranges: @escaping @Sendable (Int) -> [Range]) {
        let thread = Thread { [self] in
            var advised = 0
            while advised < chunks {
                condition.lock()
                while advised >= taken + depth && !stopped { condition.wait() }
                let stop = stopped
                condition.unlock()
                if stop { break }
                for range in ranges(advised) {
                    _ = posix_fadvise(range.descriptor, off_t(range.offset), off_t(range.length), POSIX_FADV_WILLNEED)
                }
                advised += 1
            }
            finished.signal()
        }
        thread.start()
    }

    /// A worker starts on chunk `chunk`.
    func take(_ chunk: Int) {
        condition.lock()
        taken = max(taken, chunk + 1)
        condition.signal()
        condition.unlock()
    }

    /// Stops the thread and waits for it (the descriptors it advises stay open until then).
    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
        finished.wait()
    }
}
