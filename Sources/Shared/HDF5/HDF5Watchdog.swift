import Foundation

/// Turns what libhdf5 does with some damaged files into one clear error line and exit status 1.
/// HDF5 1.10 trusts the file's metadata: some corruptions make it loop forever (a damaged global
/// heap makes H5HG_read spin) and others make it dereference garbage. Once armed:
/// - a background thread looks every half second at how long the current HDF5 call has run,
///   and ends the process when it passes `limit` (every call on an intact file returns in well
///   under it);
/// - a segmentation or bus fault *while an HDF5 call is running* ends the process with the same
///   kind of line. A fault anywhere else is a bug of ours: the handler steps aside and the
///   process crashes as it would have, with the runtime's backtrace.
/// `icl-analyze check` reads nothing with HDF5 before the dump's sha256 file has vouched for it.
public enum HDF5Watchdog {
    /// Seconds one HDF5 call may run: 120, or $ICL_HDF5_WATCHDOG_SECONDS (tests of damaged
    /// files make it short).
    public static let limit: TimeInterval = ProcessInfo.processInfo.environment["ICL_HDF5_WATCHDOG_SECONDS"]
        .flatMap(Double.init).flatMap { $0 > 0 ? $0 : nil } ?? 120

    private static let state = NSLock()
    nonisolated(unsafe) private static var callStarted: Date?
    nonisolated(unsafe) private static var armed = false
    /// 1 while an HDF5 call runs; read by the fault handler, so a plain word, not a Swift object.
    nonisolated(unsafe) private static let inCall: UnsafeMutablePointer<Int32> = {
        let flag = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
        flag.initialize(to: 0)
        return flag
    }()
    /// The fault line, prepared up front: a signal handler may not allocate.
    nonisolated(unsafe) private static var faultLine: [CChar] = []
    /// The handlers before ours (the runtime's backtracer), for faults that are not HDF5's.
    nonisolated(unsafe) private static var previousSegv = sigaction()
    nonisolated(unsafe) private static var previousBus = sigaction()

    /// Starts watching; `files` are named in the error line.
    public static func arm(files: [String]) {
        state.lock()
        defer { state.unlock() }
        guard !armed else { return }
        armed = true
        let names = files.joined(separator: ", ")
        faultLine = Array("Error: \(names): libhdf5 crashed reading the file; the file is damaged (icl-analyze check compares a dump with its .sha256 file)\n".utf8CString)
        _ = inCall
        for signal in [SIGSEGV, SIGBUS] {
            var action = sigaction()
            action.sa_flags = SA_SIGINFO
            action.__sigaction_handler.sa_sigaction = { number, _, _ in
                guard HDF5Watchdog.inCall.pointee == 1 else {
                    // Not in HDF5: put the runtime's handler back and let the fault recur.
                    if number == SIGBUS {
                        sigaction(number, &HDF5Watchdog.previousBus, nil)
                    } else {
                        sigaction(number, &HDF5Watchdog.previousSegv, nil)
                    }
                    return
                }
                HDF5Watchdog.faultLine.withUnsafeBufferPointer { line in
                    _ = write(2, line.baseAddress, line.count - 1)
                }
                _exit(1)
            }
            if signal == SIGBUS {
                sigaction(signal, &action, &previousBus)
            } else {
                sigaction(signal, &action, &previousSegv)
            }
        }
        Thread.detachNewThread {
            while true {
                Thread.sleep(forTimeInterval: 0.5)
                state.lock()
                let started = callStarted
                state.unlock()
                if let started, Date().timeIntervalSince(started) > limit {
                    let line = "Error: \(names): HDF5 did not return from reading the file for \(Int(limit)) s; the file is probably damaged (icl-analyze check compares a dump with its .sha256 file)\n"
                    FileHandle.standardError.write(Data(line.utf8))
                    _exit(1)
                }
            }
        }
    }

    /// Called by `HDF5Library.serialized` as the outermost call starts and ends.
    static func callBegins() {
        state.lock()
        callStarted = Date()
        inCall.pointee = 1
        state.unlock()
    }

    static func callEnds() {
        state.lock()
        callStarted = nil
        inCall.pointee = 0
        state.unlock()
    }
}
