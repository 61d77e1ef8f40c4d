import CapstanCore
import Foundation

/// A git object name (SHA-1, 40 lowercase hex digits) of a blob or tree.
public struct ObjectID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let hex: String
    public init(hex: String) { self.hex = hex.lowercased() }
    public var description: String { hex }
    public static func < (lhs: ObjectID, rhs: ObjectID) -> Bool { lhs.hex < rhs.hex }
}

/// A commit's object name.
public struct CommitID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let hex: String
    public init(hex: String) { self.hex = hex.lowercased() }
    public var description: String { hex }
    /// The first 12 hex digits, for people and the `capstan.commit` label.
    public var short: String { String(hex.prefix(12)) }
    public static func < (lhs: CommitID, rhs: CommitID) -> Bool { lhs.hex < rhs.hex }

    /// Whether `text` is a full 40-digit object name.
    public static func isFullHex(_ text: String) -> Bool {
        text.count == 40 && text.allSatisfy { $0.isHexDigit }
    }
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

/// How to authenticate to a remote. Only `.none` is implemented today; the others are the
/// planned shape (a token sent as HTTP basic auth over https://, a private key for ssh://).
public enum GitCredentials: Hashable, Sendable {
    case none
    /// An https:// token (sent as the password of HTTP basic auth, user `x-access-token`).
    case token(String)
    /// An ssh:// private key file, with its passphrase if it has one.
    case sshKey(privateKeyPath: String, passphrase: String?)
}

/// Where manifests come from: a repository URL (a local path, `file://`; `git://`, `https://` and
/// `ssh://` with credentials later) and the credentials for it.
public struct GitRemote: Hashable, Sendable, CustomStringConvertible {
    public var url: String
    public var credentials: GitCredentials

    public init(url: String, credentials: GitCredentials = .none) {
        self.url = url
        self.credentials = credentials
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
/// - ``files(at:under:matching:)`` and ``treeID(at:path:)`` read the tree of a commit from the cache.
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

    /// The tree (or blob) name at `path` in `commit` (empty path: the root tree); nil when absent.
    /// Equal IDs mean identical contents, so unchanged sub-trees need no re-planning.
    func treeID(at commit: CommitID, path: String) async throws -> ObjectID?

    /// The commit `ref` (`HEAD`, a branch, a tag or a full ref name) points to on the remote now,
    /// or nil when the remote has no such ref. Does not fetch.
    func remoteHead(ref: String) async throws -> CommitID?
}

extension GitSource {
    /// Every file under `path` at `commit`.
    public func files(at commit: CommitID, under path: String) async throws -> [GitFile] {
        try await files(at: commit, under: path, matching: { _ in true })
    }
}
