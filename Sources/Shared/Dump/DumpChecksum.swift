import Foundation

/// The `DUMP.h5.sha256` file written beside a finished dump (capture and pack), in the format
/// of `sha256sum` ("<64 hex digits>  <file name>"), so `sha256sum -c` checks it too. A
/// collaborator who receives a dump can then tell a damaged copy from a bad capture before
/// HDF5 reads a byte of it: some one-byte corruptions crash libhdf5 itself.
public enum DumpChecksum {
    public static func path(for dump: String) -> String { dump + ".sha256" }

    /// Hashes `dump` and writes its checksum file (atomically).
    public static func write(for dump: String) throws {
        let digest = try SHA256.hexDigest(ofFile: dump)
        let line = "\(digest)  \((dump as NSString).lastPathComponent)\n"
        do {
            try Data(line.utf8).write(to: URL(fileURLWithPath: path(for: dump)), options: .atomic)
        } catch {
            throw InputError(file: path(for: dump), "cannot be written: \(error.localizedDescription)")
        }
    }

    /// Removes a checksum file that is about to go stale (the dump is written again); none is fine.
    public static func remove(for dump: String) throws {
        let checksum = path(for: dump)
        guard FileManager.default.fileExists(atPath: checksum) else { return }
        do {
            try FileManager.default.removeItem(atPath: checksum)
        } catch {
            throw InputError(file: checksum, "is stale and cannot be removed: \(error.localizedDescription)")
        }
    }

    public enum Outcome: Equatable, Sendable {
        case verified(String)
        /// No checksum file beside the dump.
        case absent
    }

    /// Compares `dump` with its checksum file; throws when they differ or the file is unreadable.
    public static func verify(_ dump: String) throws -> Outcome {
        let sidecar = path(for: dump)
        guard FileManager.default.fileExists(atPath: sidecar) else { return .absent }
        guard let data = FileManager.default.contents(atPath: sidecar),
              let text = String(data: data, encoding: .utf8),
              let expected = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).first.map(String.init),
              expected.count == 64, expected.allSatisfy({ $0.isHexDigit }) else {
            throw InputError(file: sidecar, "is not a sha256 checksum file (expected \"<64 hex digits>  <name>\")")
        }
        let actual = try SHA256.hexDigest(ofFile: dump)
        guard actual == expected.lowercased() else {
            throw InputError(file: dump, "does not match its checksum (\(sidecar) says \(expected.prefix(12))..., the file hashes to \(actual.prefix(12))...): the copy is damaged or was changed after the capture")
        }
        return .verified(actual)
    }
}
