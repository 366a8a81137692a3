import Foundation

/// A one-line progress display on stderr (items, rate, ETA), redrawn at most ten times a
/// second, only when stderr is a terminal: logs stay clean.
public final class ProgressReporter {
    private let total: Int
    private let unit: String
    private let enabled: Bool
    private let start = Date()
    private var completed = 0
    private var tokens = 0
    private var lastDraw = Date.distantPast

    public init(total: Int, unit: String, enabled: Bool = isatty(2) != 0) {
        self.total = total
        self.unit = unit
        self.enabled = enabled
    }

    /// Records `items` more finished items that held `tokens` tokens; `label` says what is
    /// being worked on.
    public func advance(by items: Int, tokens newTokens: Int, label: String) {
        completed += items
        tokens += newTokens
        guard enabled, Date().timeIntervalSince(lastDraw) >= 0.1 || completed == total else { return }
        lastDraw = Date()
        let elapsed = max(Date().timeIntervalSince(start), 1e-9)
        let rate = Double(tokens) / elapsed
        let remaining = completed > 0 ? elapsed / Double(completed) * Double(total - completed) : 0
        let line = String(format: "%@  %d/%d %@ (%.0f%%)  %.0f tok/s  ETA %@", label, completed, total, unit,
                          100 * Double(completed) / Double(max(total, 1)), rate, Self.duration(remaining))
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
    }

    /// Ends the line, when one was drawn.
    public func finish() {
        guard enabled, lastDraw != .distantPast else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h\(s % 3600 / 60)m" : s >= 60 ? "\(s / 60)m\(s % 60)s" : "\(s)s"
    }
}
