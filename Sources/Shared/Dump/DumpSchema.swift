import Foundation

/// The machine-readable and the human-readable form of DumpLayout, as committed in schemas/
/// (a test fails when they drift from the layout).
public enum DumpSchema {
    struct Document: Codable {
        let format: String
        let version: String
        let valueTypes: [String: String]
        let groups: [DumpGroup]
    }

    /// schemas/dump-v<major>.json
    public static var json: String {
        let document = Document(
            format: DumpFormat.name, version: DumpFormat.version,
            valueTypes: ["activation": "float32, or float16 when the root attribute activation_dtype says so",
                         "float32": "IEEE float32", "int32": "int32", "uint8": "uint8",
                         "string": "variable-length UTF-8 string"],
            groups: DumpLayout.allGroups)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(document)) ?? Data(), as: UTF8.self) + "\n"
    }

    /// schemas/dump-v<major>.md
    public static var markdown: String {
        var text = """
            # \(DumpFormat.name) format \(DumpFormat.version)

            Generated from `Sources/Shared/Dump/DumpLayout.swift` (`icl-capture schema --markdown`);
            the machine-readable form is `dump-v\(majorVersion).json`. Every dimension is a netCDF-4
            dimension scale, so `xarray.open_dataset(path, engine="h5netcdf", group=...)` shows
            labelled arrays. `activation` datasets are float32, or float16 when the root attribute
            `activation_dtype` says so. Rows whose `done` flag is 0 hold no data.

            """
        for group in DumpLayout.allGroups {
            text += "\n## `\(group.path)`\n\n\(group.meaning)\n"
            if !group.dimensions.isEmpty {
                text += "\n| dimension | meaning |\n|---|---|\n"
                for d in group.dimensions { text += "| `\(d.name)` | \(d.meaning) |\n" }
            }
            if !group.attributes.isEmpty {
                text += "\n| attribute | type | meaning |\n|---|---|---|\n"
                for a in group.attributes {
                    text += "| `\(a.name)` | \(a.type) | \(a.meaning)\(a.since == "1.0" ? "" : " (since \(a.since))") |\n"
                }
            }
            if !group.datasets.isEmpty {
                text += "\n| dataset | dimensions | type | meaning |\n|---|---|---|---|\n"
                for d in group.datasets {
                    text += "| `\(d.name)` | [\(d.dimensions.joined(separator: ", "))] | \(d.type.rawValue) | \(d.meaning)\(d.optional ? " (optional)" : "")\(d.since == "1.0" ? "" : " (since \(d.since))") |\n"
                }
            }
        }
        return text
    }

    public static var majorVersion: String { String(DumpFormat.version.split(separator: ".")[0]) }
}
