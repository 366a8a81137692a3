import Foundation
import PackagePlugin

/// Fixes the source commit into the binary at build time: before every build, `git describe`
/// in the package folder writes `BuildCommit.swift` (`BuildCommit.value`) into the target,
/// "-dirty" when the tree had uncommitted changes, "unknown" outside a git checkout or without
/// git. The file is rewritten only when the commit changes, so unchanged builds stay no-ops.
@main
struct BuildCommitPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let folder = context.pluginWorkDirectoryURL.appendingPathComponent("Generated")
        let script = """
            commit=$(git -c safe.directory='*' -C "$1" describe --always --dirty --abbrev=40 2>/dev/null) || commit=unknown
            [ -n "$commit" ] || commit=unknown
            mkdir -p "$(dirname "$2")"
            text="// Generated before each build by Plugins/BuildCommit; not in the source tree.
            public enum BuildCommit {
                /// The commit this binary was built from, or \\"unknown\\".
                public static let value = \\"$commit\\"
            }"
            [ "$(cat "$2" 2>/dev/null)" = "$text" ] || printf '%s\\n' "$text" > "$2"
            """
        return [.prebuildCommand(
            displayName: "Recording the source commit of \(target.name)",
            executable: URL(fileURLWithPath: "/bin/sh"),
            arguments: ["-c", script, "sh", context.package.directoryURL.path,
                        folder.appendingPathComponent("BuildCommit.swift").path],
            environment: [:],
            outputFilesDirectory: folder)]
    }
}
