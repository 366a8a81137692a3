import Foundation

/// Head-set files, as `icl-analyze heads --json` writes them and `icl-analyze report
/// --heads-file` and `icl-capture intervene --ablate` read them. Two forms:
///
///     {"heads": [[layer, head], ...], "name": "..."}                      one set ("name" optional)
///     {"headSets": [{"name": "top_tr", "kind": "named", "heads": [[layer, head], ...]}, ...]}
///
/// `icl-analyze heads --json` writes both: "headSets" wins when present. Other keys (the score,
/// its values, the dump) are ignored. A one-set file's set is named by its "name", else by the
/// file's name without extension.
public enum HeadSetFile {
    /// Every set of the file, checking that each names only heads of a model of
    /// `layers` x `heads`, none twice, and that set names are distinct.
    public static func read(path: String, layers: Int, heads: Int) throws -> [HeadSet] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(file: path, "cannot be read")
        }
        struct Entry: Decodable {
            let name: String?
            let kind: HeadSet.Kind?
            let heads: [HeadID]
        }
        struct File: Decodable {
            let heads: [HeadID]?
            let name: String?
            let headSets: [Entry]?
        }
        let form = "{\"heads\": [[layer, head], ...]} or {\"headSets\": [{\"name\": ..., \"heads\": [[layer, head], ...]}, ...]}"
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            throw InputError(file: path, "is not a head-set file (\(form)): \(error)")
        }
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        var entries: [Entry]
        switch (file.heads, file.headSets) {
        case (_, let sets?): entries = sets
        case (let heads?, nil): entries = [Entry(name: file.name ?? stem, kind: .file, heads: heads)]
        case (nil, nil): throw InputError(file: path, "is not a head-set file: it has neither \"heads\" nor \"headSets\" (\(form))")
        }
        guard !entries.isEmpty else { throw InputError(file: path, "names no head sets") }
        var result: [HeadSet] = []
        for (i, entry) in entries.enumerated() {
            let name = entry.name ?? "set_\(i)"
            guard !entry.heads.isEmpty else { throw InputError(file: path, "set \(name) names no heads") }
            for head in entry.heads where !(0..<layers).contains(head.layer) || !(0..<heads).contains(head.head) {
                throw InputError(file: path, "set \(name) names head \(head), but the model has \(layers) layers of \(heads) heads")
            }
            guard Set(entry.heads).count == entry.heads.count else { throw InputError(file: path, "set \(name) names a head twice") }
            guard !result.contains(where: { $0.name == name }) else { throw InputError(file: path, "names set \(name) twice") }
            result.append(HeadSet(name: name, kind: entry.kind ?? .file, heads: entry.heads))
        }
        return result
    }
}
