import CHDF5
import Foundation

/// Process-wide HDF5 state: one-time setup and the lock that serialises every HDF5 call.
///
/// Debian's libhdf5 is the serial build, which is not thread-safe: its error stack, id tables
/// and caches are global. Every entry point of this layer runs its HDF5 calls under
/// `HDF5Library.serialized`, so the layer may be used from several threads, one call at a
/// time. The handle types (`HDF5File`, `HDF5Group`, `HDF5Dataset`) are deliberately not
/// `Sendable`: each belongs to the isolation domain that opened it.
enum HDF5Library {
    /// Recursive so that public calls may be built from other public calls.
    private static let lock = NSRecursiveLock()

    /// Runs once, on first use: opens the library. HDF5 1.10.8's exit handler crashes (SIGSEGV)
    /// after a close that failed on a full disk, so it is not installed: files are closed
    /// explicitly, and raw rows are already on disk.
    private static let initialized: Bool = {
        H5dont_atexit()
        H5open()
        return true
    }()

    /// Marks the threads whose HDF5 error printing is off. Debian's libhdf5 is built
    /// thread-safe, which makes the error stack, and whether it is printed to stderr, a
    /// per-thread setting: each thread that calls in turns printing off once (failures become
    /// `InputError`s instead of a stack dump beside the one-line error).
    private static let silencedThread: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    private static func silenceThisThread() {
        guard pthread_getspecific(silencedThread) == nil else { return }
        H5Eset_auto2(icl_H5E_DEFAULT, nil, nil)
        pthread_setspecific(silencedThread, UnsafeRawPointer(bitPattern: 1))
    }

    /// Nesting depth of `serialized` on the thread that holds the lock.
    nonisolated(unsafe) private static var depth = 0

    static func serialized<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        _ = initialized
        if depth == 0 {
            silenceThisThread()
            HDF5Watchdog.callBegins()
        }
        depth += 1
        defer {
            depth -= 1
            if depth == 0 { HDF5Watchdog.callEnds() }
        }
        return try body()
    }
}

// Handles hold HDF5 ids that belong to the code that opened them; keep them out of
// `Sendable` for good (each thread or actor opens its own).
@available(*, unavailable)
extension HDF5File: Sendable {}

@available(*, unavailable)
extension HDF5Group: Sendable {}

@available(*, unavailable)
extension HDF5Dataset: Sendable {}
