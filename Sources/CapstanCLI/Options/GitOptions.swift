import ArgumentParser
import CapstanCore
import CapstanGit
import Foundation

/// Where the manifests come from: `--repo`, `--branch`, `--path`, `--interval` and the git credentials.
/// Embedded with `@OptionGroup` by `reconcile`, `up` and `diff`.
struct GitOptions: ParsableArguments {
    static let defaultInterval = "30s"

    @Option(
        name: .customLong("repo"),
        help: ArgumentHelp(
            "The git repository of the manifests.", discussion: "A local path or a file://, git://, https:// or ssh:// URL (or user@host:path).",
            valueName: "url|path"))
    var repo: String?

    @Option(help: ArgumentHelp("The branch, tag or commit to follow (default: the remote's HEAD branch, or main).", valueName: "branch"))
    var branch: String?

    @Option(name: .customLong("path"), help: ArgumentHelp("The directory of the manifests inside the repository (default: its root).", valueName: "subdir"))
    var subPath: String = ""

    @Option(help: ArgumentHelp("How often to check the repository for new commits (e.g. 30s, 2mins).", valueName: "duration"))
    var interval: String = GitOptions.defaultInterval

    @OptionGroup var credentials: GitCredentialFlags

    @Option(help: ArgumentHelp("The directory of the bare git cache (default: below the work directory).", valueName: "dir"))
    var gitCache: String?

    func validate() throws {
        _ = try pollInterval
        if let repo, repo.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--repo: empty") }
        if subPath.split(separator: "/").contains("..") { throw ValidationError("--path: '\(subPath)' leaves the repository") }
    }

    /// `--interval` as a duration (more than zero).
    var pollInterval: Duration {
        get throws {
            let duration = try FlagParsing.duration(interval, flag: "--interval")
            guard duration > .zero else { throw ValidationError("--interval: must be more than zero") }
            return duration
        }
    }

    /// `--repo`, or a ValidationError naming the command's need for it.
    func requireRepo() throws -> String {
        guard let repo else { throw ValidationError("--repo URL|PATH is required") }
        return repo
    }

    /// The remote with its credentials: a token from `--git-token-file` or `CAPSTAN_GIT_TOKEN` (https://
    /// only), or `--ssh-key`; `--known-hosts` and `--git-ca`.
    func remote(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> GitRemote {
        try credentials.remote(url: try requireRepo(), environment: environment)
    }

    /// `--git-cache`, or a directory under `workDirectory` named after the repository (stable across
    /// restarts, so that a restart fetches only what is new).
    func cachePath(workDirectory: String) throws -> String {
        if let gitCache { return gitCache }
        let url = try requireRepo()
        let readable = url.split(whereSeparator: { !$0.isLetter && !$0.isNumber && $0 != "-" && $0 != "." })
            .last.map(String.init) ?? "repo"
        return workDirectory + "/git/\(readable)-\(Self.fnv1a(url))"
    }

    /// The source over the bare cache.
    func source(workDirectory: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> LibGit2Source {
        LibGit2Source(remote: try remote(environment: environment), cachePath: try cachePath(workDirectory: workDirectory))
    }

    /// `--branch`, or the remote's HEAD branch, or `main` when the remote does not say.
    func revision(of source: LibGit2Source) async -> String {
        if let branch, !branch.isEmpty { return branch }
        if let head = try? await source.remoteDefaultBranch() { return head }
        return "main"
    }

    /// FNV-1a of `text`, 16 hex digits: a short stable name, not a security measure.
    static func fnv1a(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
