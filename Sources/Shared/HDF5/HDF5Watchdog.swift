import Foundation

/// Ends the process with one clear line when a call into libhdf5 does not return: HDF5 1.10
/// loops forever on some damaged files (a corrupted global heap makes H5HG_read spin), and a
/// user is better served by an error than by a hang. Once armed, a background thread looks
/// every half second at how long the current HDF5 call has run; every call of this layer on
/// an intact file returns in well under the limit.
public enum HDF5Watchdog {
    public static let limit: TimeInterval = 120

    private static let state = NSLock()
    nonisolated(unsafe) private static var callStarted: Date?
    nonisolated(unsafe) private static var armed = false

    /// Starts watching; `files` are named in the error line.
    public static func arm(files: [String]) {
        state.lock()
        defer { state.unlock() }
        guard !armed else { return }
        armed = true
        let names = files.joined(separator: ", ")
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
        state.unlock()
    }

    static func callEnds() {
        state.lock()
        callStarted = nil
        state.unlock()
    }
}
