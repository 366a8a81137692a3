import CHDF5

/// Turns failed HDF5 calls into `InputError`s that name the file, the operation and the
/// object path, followed by HDF5's innermost error message when there is one, e.g.
/// "dump.h5: cannot open dataset /sets/antonym/z (object 'z' doesn't exist)".
enum HDF5Error {
    static func make(file: String, _ problem: String) -> InputError {
        guard let detail = innermostMessage(), !detail.isEmpty else { return InputError(file: file, problem) }
        return InputError(file: file, "\(problem) (\(detail))")
    }

    /// Throws unless `id` is a valid identifier (HDF5 returns a negative one on failure).
    @discardableResult
    static func check(_ id: hid_t, file: String, _ problem: @autoclosure () -> String) throws -> hid_t {
        guard id >= 0 else { throw make(file: file, problem()) }
        return id
    }

    /// Throws when an `herr_t` / `htri_t` status is negative.
    static func check(_ status: Int32, file: String, _ problem: @autoclosure () -> String) throws {
        guard status >= 0 else { throw make(file: file, problem()) }
    }

    /// The description of the most specific entry on HDF5's default error stack: the one
    /// that says what actually went wrong ("file signature not found"), not the API wrapper.
    private static func innermostMessage() -> String? {
        var message: String?
        withUnsafeMutablePointer(to: &message) { pointer in
            _ = H5Ewalk2(icl_H5E_DEFAULT, H5E_WALK_UPWARD, { position, entry, context in
                guard position == 0, let description = entry?.pointee.desc, let context else { return 0 }
                context.assumingMemoryBound(to: String?.self).pointee = String(cString: description)
                return 1
            }, pointer)
        }
        H5Eclear2(icl_H5E_DEFAULT)
        return message
    }
}
