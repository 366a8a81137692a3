import Foundation

/// A one-line account of why JSONDecoder failed, for an InputError: the path to the offending
/// value and what was wrong with it, without the decoder's nested context dump.
func describeJSONError(_ error: Error) -> String {
    guard let decoding = error as? DecodingError else { return "\(error)" }
    switch decoding {
    case .dataCorrupted(let context), .typeMismatch(_, let context), .valueNotFound(_, let context):
        let path = context.codingPath.map(\.stringValue).joined(separator: ".")
        return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
    case .keyNotFound(let key, let context):
        let path = (context.codingPath + [key]).map(\.stringValue).joined(separator: ".")
        return "missing \"\(path)\""
    @unknown default:
        return "\(decoding)"
    }
}
