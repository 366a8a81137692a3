import Foundation

/// Where the task files shipped with the tools are, found from the running binary so that it
/// works from any folder: installed beside it (`scripts/install PREFIX` puts the binaries in
/// PREFIX/bin and the tasks in PREFIX/share/icl-heads/tasks), or the repository's tasks/ for a
/// binary in the repository's build folder (REPO/.build/<triple>/<configuration>/).
public enum ShippedTasks {
    /// The folder `scripts/install` puts the tasks in, relative to the install prefix.
    public static let installedPath = "share/icl-heads/tasks"

    /// The folders looked in, in order, for a binary at `executable` (symbolic links resolved).
    public static func candidates(executable: URL) -> [URL] {
        let binary = executable.resolvingSymlinksInPath()
        let binFolder = binary.deletingLastPathComponent()
        var folders = [binFolder.deletingLastPathComponent().appendingPathComponent(installedPath)]
        let components = binFolder.pathComponents
        if let build = components.lastIndex(of: ".build"), build > 0 {
            let repository = NSString.path(withComponents: Array(components[..<build]))
            folders.append(URL(fileURLWithPath: repository).appendingPathComponent("tasks"))
        }
        return folders.map(\.standardizedFileURL)
    }

    /// The first candidate folder that exists, or nil.
    public static func locate(executable: URL) -> URL? {
        candidates(executable: executable).first { url in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
        }
    }

    /// The running binary's location (on Linux, /proc/self/exe).
    public static var runningExecutable: URL {
        Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
    }
}
