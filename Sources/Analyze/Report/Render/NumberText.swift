import Foundation

/// printf-style text of one number through the C library. Foundation's `String(format:)` costs
/// microseconds per call on Linux, and a report writes hundreds of thousands of numbers.
enum NumberText {
    /// `format` holds exactly one conversion for a Double (`%.9g`, `%.2f`, ...).
    static func format(_ format: String, _ value: Double) -> String {
        cFormat(format, value)
    }

    /// `format` holds exactly one conversion for a 64-bit Int: `%02lx`, `%ld` (the `l` is required).
    static func format(_ format: String, _ value: Int) -> String {
        cFormat(format, value)
    }

    private static func cFormat(_ format: String, _ value: CVarArg) -> String {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer in
            let written = withVaList([value]) { vsnprintf(buffer.baseAddress!, 64, format, $0) }
            precondition(written >= 0 && written < 64, "NumberText: \(format) does not fit 64 bytes")
            return String(cString: buffer.baseAddress!)
        }
    }
}
