import CapstanCore
import Foundation

/// A git object name (SHA-1, 40 lowercase hex digits) of a blob or tree.
public struct ObjectID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let hex: String
    public init(hex: String) { self.hex = hex.lowercased() }
    public var description: String { hex }
    public static func < (lhs: ObjectID, rhs: ObjectID) -> Bool { lhs.hex < rhs.hex }
}

/// One file read from a tree: its path from the repository root, its blob's name (equal blob IDs
/// mean equal contents, so a reconciler can skip files that did not change), and its bytes.
public struct GitFile: Hashable, Sendable {
    public var path: String
    public var blobID: ObjectID
    public var contents: Data

    public init(path: String, blobID: ObjectID, contents: Data) {
        self.path = path
        self.blobID = blobID
        self.contents = contents
    }
}

/// One file of a tree without its bytes: its path from the repository root and its blob's name. Listing
/// these is a walk of tree objects only; ``GitSource/blobs(_:)`` reads the bytes of the blobs still needed.
public struct GitTreeEntry: Hashable, Sendable {
    public var path: String
    public var blobID: ObjectID

    public init(path: String, blobID: ObjectID) {
        self.path = path
        self.blobID = blobID
    }
}

/// How to authenticate to a remote.
public enum GitCredentials: Hashable, Sendable {
    case none
    /// An https:// token, sent as the password of HTTP basic auth; the user is the URL's user or
    /// `x-access-token` (what GitHub and Gitea accept). Never sent over plain http://.
    case token(String)
    /// An ssh:// private key file, with its passphrase if it has one. The public key is read from
    /// `privateKeyPath + ".pub"` when that file exists, else derived from the private key.
    case sshKey(privateKeyPath: String, passphrase: String?)
}

/// Where manifests come from: a repository URL (a local path, `file://`, `git://`, `https://` or
/// `ssh://`, or scp-like `user@host:path`), the credentials for it, and what to trust.
public struct GitRemote: Hashable, Sendable, CustomStringConvertible {
    public var url: String
    public var credentials: GitCredentials
    /// A PEM file of CA certificates trusted for https:// in addition to the system's bundle.
    /// libgit2 keeps one trust store per process, so every CA given to any remote of the process
    /// is trusted by all of its https:// connections (see ``TrustedCertificates``).
    public var caFile: String?
    /// The OpenSSH known_hosts file that ssh:// host keys are checked against (default:
    /// `~/.ssh/known_hosts`). Unknown and mismatched host keys are refused.
    public var knownHostsFile: String?

    public init(url: String, credentials: GitCredentials = .none, caFile: String? = nil, knownHostsFile: String? = nil) {
        self.url = url
        self.credentials = credentials
        self.caFile = caFile
        self.knownHostsFile = knownHostsFile
    }

    /// The URL without any user information, for logs.
    public var description: String {
        guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].firstIndex(of: "@") else { return url }
        return String(url[..<scheme.upperBound]) + String(url[url.index(after: at)...])
    }
}

/// A git repository the reconciler reads manifests from, without a checkout.
///
/// Contract:
/// - ``fetch()`` brings the remote's branches (as `refs/remotes/origin/*`), tags and HEAD into a
///   local cache; it is idempotent and may be called at any time. Reads see what the last fetch brought.
/// - ``resolve(_:)`` turns a branch, tag, `HEAD`, full or abbreviated commit name (or any git
///   revision expression) into a commit, from the cache; `notFound` when it names nothing.
/// - ``files(at:under:matching:)``, ``entries(at:under:matching:)``, ``blobs(_:)`` and ``treeID(at:path:)``
///   read commits, trees and blobs from the cache.
/// - ``remoteHead(ref:)`` asks the remote (ls-remote), not the cache: a cheap poll for "did it move?".
/// All calls are safe from any task; implementations serialise their own access.
public protocol GitSource: Sendable {
    var remote: GitRemote { get }

    /// Fetches the remote into the cache.
    func fetch() async throws

    /// The commit a revision names, in the cache.
    func resolve(_ revision: String) async throws -> CommitID

    /// Every file under `path` (empty for the root) at `commit` whose path `include` accepts, sorted by
    /// path. Symbolic links and submodules are skipped. `notFound` if `path` does not exist there.
    func files(at commit: CommitID, under path: String, matching include: @Sendable (String) -> Bool) async throws -> [GitFile]

    /// The path and blob name of every file that ``files(at:under:matching:)`` returns, without reading the
    /// blobs (same order, same errors), so that a reader can skip the blobs it has already decoded.
    func entries(at commit: CommitID, under path: String, matching include: @Sendable (String) -> Bool) async throws -> [GitTreeEntry]

    /// The bytes of each blob, in the order of `ids`; `notFound` when the cache has no such blob.
    func blobs(_ ids: [ObjectID]) async throws -> [Data]

    /// The tree (or blob) name at `path` in `commit` (empty path: the root tree); nil when absent.
    /// Equal IDs mean identical contents, so unchanged sub-trees need no re-planning.
    func treeID(at commit: CommitID, path: String) async throws -> ObjectID?

    /// The commit `ref` (`HEAD`, a branch, a tag or a full ref name) points to on the remote now,
    /// or nil when the remote has no such ref. Does not fetch.
    func remoteHead(ref: String) async throws -> CommitID?

    /// The files under `path` whose `include`-accepted paths differ between `old` and `new`
    /// (added, modified or deleted), sorted by path; `old == nil` lists every file of `new` as added.
    /// Sub-trees with equal IDs are not descended into.
    func changes(
        from old: CommitID?, to new: CommitID, under path: String, matching include: @Sendable (String) -> Bool
    ) async throws -> [GitChange]
}

extension GitSource {
    /// ``files(at:under:matching:)`` without the bytes; implementations that can walk trees without reading
    /// blobs (``LibGit2Source``) do so instead.
    public func entries(
        at commit: CommitID, under path: String, matching include: @Sendable (String) -> Bool
    ) async throws -> [GitTreeEntry] {
        try await files(at: commit, under: path, matching: include).map { GitTreeEntry(path: $0.path, blobID: $0.blobID) }
    }

    /// Every file under `path` at `commit`.
    public func files(at commit: CommitID, under path: String) async throws -> [GitFile] {
        try await files(at: commit, under: path, matching: { _ in true })
    }

    /// Compares blob IDs of the two commits' file lists; implementations that can walk trees
    /// (``LibGit2Source``) skip unchanged sub-trees instead.
    public func changes(
        from old: CommitID?, to new: CommitID, under path: String, matching include: @Sendable (String) -> Bool
    ) async throws -> [GitChange] {
        let after = try await files(at: new, under: path, matching: include)
        var before: [GitFile] = []
        if let old {
            do {
                before = try await files(at: old, under: path, matching: include)
            } catch let error as CapstanError where error.code == .notFound {
                before = []  // the sub-path did not exist yet
            }
        }
        return GitChange.between(
            old: before.map { ($0.path, $0.blobID) }, new: after.map { ($0.path, $0.blobID) })
    }
}
