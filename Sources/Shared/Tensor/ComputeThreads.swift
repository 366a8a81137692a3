import CKernels
import COpenBLAS
import Foundation

/// The number of threads compute may use (`--threads`): OpenBLAS's pool and the engine's
/// own parallel loops. Set once at start-up, before any compute.
public enum ComputeThreads {
    nonisolated(unsafe) private static var configured = ProcessInfo.processInfo.activeProcessorCount

    public static var count: Int { configured }

    public static func set(_ count: Int) {
        configured = max(1, count)
        BLAS.setThreads(configured)
    }

    /// Runs `body(i)` for i in 0..<iterations on up to `count` threads (CKernels' pool, whose
    /// workers stay awake between the short loops of a pass); serially when one thread is
    /// configured, there is nothing to split, or the call comes from inside another loop. The
    /// iterations must touch disjoint memory: that is what makes handing the (pointer-capturing)
    /// body to several threads sound.
    public static func forEach(_ iterations: Int, _ body: (Int) -> Void) {
        if configured == 1 || iterations < 2 {
            for i in 0..<iterations { body(i) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            var task = escapable
            withUnsafeMutablePointer(to: &task) { context in
                icl_parallel_for(iterations, configured, { context, index in
                    context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(index)
                }, context)
            }
        }
    }

    /// `forEach` for bodies that call BLAS: OpenBLAS runs single-threaded meanwhile (the
    /// iterations are the parallelism; a threaded BLAS inside them would oversubscribe the
    /// cores), and its thread count is restored afterwards.
    public static func forEachCallingBLAS(_ iterations: Int, _ body: (Int) -> Void) {
        let blasThreads = BLAS.threads
        if blasThreads > 1 { BLAS.setThreads(1) }
        defer { if blasThreads > 1 { BLAS.setThreads(blasThreads) } }
        forEach(iterations, body)
    }

    /// `forEachCallingBLAS` for bodies that need large scratch buffers: at most `count` workers
    /// each make their scratch once (`makeScratch`) and take iterations in ascending order from
    /// a shared counter, so buffers are reused instead of being allocated and page-faulted per
    /// iteration, and a streaming reader still walks its file front to back.
    public static func forEachCallingBLAS<Scratch>(_ iterations: Int, scratch makeScratch: () -> Scratch,
                                                   _ body: (Int, inout Scratch) -> Void) {
        let lock = NSLock()
        var next = 0
        forEachCallingBLAS(min(configured, iterations)) { _ in
            var scratch = makeScratch()
            while true {
                let i: Int = lock.withLock {
                    defer { next += 1 }
                    return next
                }
                guard i < iterations else { return }
                body(i, &scratch)
            }
        }
    }
}
