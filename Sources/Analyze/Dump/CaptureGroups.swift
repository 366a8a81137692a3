import Foundation
import Shared

/// Sorts dump files given together into captures: files of one model and one set of capture
/// options are the shards of one capture; other files are other captures (e.g. other models
/// to compare by depth).
public enum CaptureGroups {
    public static func open(_ paths: [String]) throws -> [ShardedDump] {
        try ShardedDump.checkDistinct(paths)
        let files = try paths.map(DumpFile.init(path:))
        var groups: [[DumpFile]] = []
        for file in files {
            if let i = groups.firstIndex(where: { $0[0].modelSHA256 == file.modelSHA256 && $0[0].captureConfiguration == file.captureConfiguration }) {
                groups[i].append(file)
            } else {
                groups.append([file])
            }
        }
        return try groups.map(ShardedDump.init(files:))
    }
}
