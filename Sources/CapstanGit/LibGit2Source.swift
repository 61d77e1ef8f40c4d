import CLibGit2
import CapstanCore
import Foundation

/// A ``GitSource`` over libgit2: a bare cache repository on disk, fetched from the remote, read at
/// any commit without a checkout. Every libgit2 call runs on the actor's own thread.
public actor LibGit2Source: GitSource {
    public nonisolated let remote: GitRemote
    /// The bare cache repository's directory (created on first fetch).
    public nonisolated let cachePath: String
    /// Set when the source reads a local repository where it lies (``init(localRepository:)``): no cache, no
    /// fetch, and revisions name the repository's own branches and tags.
    public nonisolated let readsInPlace: Bool

    private let executor: ThreadExecutor
    // Touched only on the actor's thread, and in deinit when no one else can.
    nonisolated(unsafe) private var repository: OpaquePointer?

    /// Whether this machine's libgit2 was built with SSH (libssh2); without it ssh:// remotes are refused.
    public static var supportsSSH: Bool { RemoteAuthenticator.supportsSSH }

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// The refspecs of a fetch: branches under `refs/remotes/origin/`, tags as they are.
    static let refspecs = ["+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"]
    static let originHead = "refs/remotes/origin/HEAD"

    public init(remote: GitRemote, cachePath: String) {
        _ = LibGit2.initialised
        self.remote = remote
        self.cachePath = cachePath
        self.readsInPlace = false
        self.executor = ThreadExecutor(name: "capstan.git")
    }

    /// Reads the local repository at `path` (its work tree or its git directory) in place, as `git diff` does:
    /// nothing is copied, so a one-shot reader such as `capstan diff` does not pay for a clone of every object.
    /// Only objects and refs are read; nothing in the repository is written or run.
    public init(localRepository path: String) {
        _ = LibGit2.initialised
        self.remote = GitRemote(url: path)
        self.cachePath = path
        self.readsInPlace = true
        self.executor = ThreadExecutor(name: "capstan.git")
    }

    deinit {
        if let repository { git_repository_free(repository) }
        executor.stop()
    }

    // MARK: GitSource

    public func fetch() throws {
        if readsInPlace {
            _ = try openCache(create: false)
            return
        }
        let authenticator = try RemoteAuthenticator(remote: remote)
        let repo = try openCache(create: true)!
        var remoteHandle: OpaquePointer?
        try LibGit2.check(git_remote_create_anonymous(&remoteHandle, repo, remote.url), "\(remote): cannot use remote")
        defer { git_remote_free(remoteHandle) }

        var callbacks = authenticator.callbacks()
        defer { withExtendedLifetime(authenticator) {} }
        try authenticator.check(
            git_remote_connect(remoteHandle, GIT_DIRECTION_FETCH, &callbacks, nil, nil), "\(remote): cannot connect")
        let heads: [(name: String, oid: CommitID)]
        do {
            defer { git_remote_disconnect(remoteHandle) }
            heads = try listHeads(remoteHandle)

            var options = git_fetch_options()
            git_fetch_options_init(&options, UInt32(GIT_FETCH_OPTIONS_VERSION))
            options.callbacks = callbacks
            options.prune = GIT_FETCH_PRUNE
            options.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_ALL
            try LibGit2.withStrArray(Self.refspecs) { refspecs in
                try authenticator.check(git_remote_download(remoteHandle, refspecs, &options), "\(remote): fetch failed")
                try authenticator.check(
                    git_remote_update_tips(remoteHandle, &callbacks, 1, GIT_REMOTE_DOWNLOAD_TAGS_ALL, "capstan fetch"),
                    "\(remote): cannot update refs")
                try authenticator.check(git_remote_prune(remoteHandle, &callbacks), "\(remote): cannot prune refs")
            }
        }
        // The remote's HEAD, so that `resolve("HEAD")` means the remote's default branch.
        if let head = heads.first(where: { $0.name == "HEAD" }), var oid = LibGit2.oid(head.oid.hex) {
            var ref: OpaquePointer?
            try LibGit2.check(git_reference_create(&ref, repo, Self.originHead, &oid, 1, "capstan fetch"), "cannot record HEAD")
            git_reference_free(ref)
        }
    }

    public func resolve(_ revision: String) throws -> CommitID {
        guard let repo = try openCache(create: false) else {
            throw CapstanError(.failedPrecondition, "\(remote): not fetched yet")
        }
        let trimmed = revision.trimmingCharacters(in: .whitespaces)
        var candidates: [String] = []
        if readsInPlace {
            // The repository's own refs, exactly as `git rev-parse` reads them: libgit2's revparse follows git's
            // order (the name itself, refs/, refs/tags/, refs/heads/, refs/remotes/, refs/remotes/NAME/HEAD), so
            // `origin/main` is the remote-tracking branch and a tag wins over a branch of the same name, as in git.
        } else if trimmed == "HEAD" {
            candidates = [Self.originHead]
        } else if trimmed.hasPrefix("refs/heads/") {
            candidates = ["refs/remotes/origin/" + trimmed.dropFirst("refs/heads/".count)]
        } else if !trimmed.hasPrefix("refs/") && !CommitID.isFullHex(trimmed) {
            candidates = ["refs/remotes/origin/\(trimmed)", "refs/tags/\(trimmed)"]
        }
        for spec in candidates + [trimmed] {
            var object: OpaquePointer?
            let result = git_revparse_single(&object, repo, spec)
            if result == GIT_ENOTFOUND.rawValue || (result == GIT_EINVALIDSPEC.rawValue && spec != trimmed) { continue }
            try LibGit2.check(result, "\(remote): cannot resolve '\(revision)'")
            defer { git_object_free(object) }
            var commit: OpaquePointer?
            try LibGit2.check(git_object_peel(&commit, object, GIT_OBJECT_COMMIT), "\(remote): '\(revision)' is not a commit")
            defer { git_object_free(commit) }
            return CommitID(hex: LibGit2.hex(git_object_id(commit)))
        }
        throw CapstanError(.notFound, "\(remote): no branch, tag or commit '\(revision)'")
    }

    public func files(
        at commit: CommitID, under path: String, matching include: @Sendable (String) -> Bool
    ) throws -> [GitFile] {
        let repo = try cachedRepository()
        return try entries(at: commit, under: path, matching: include).map { entry in
            GitFile(path: entry.path, blobID: entry.blobID, contents: try readBlob(repo, entry.blobID, name: "'\(entry.path)'"))
        }
    }

    public func entries(
        at commit: CommitID, under path: String, matching include: @Sendable (String) -> Bool
    ) throws -> [GitTreeEntry] {
        let repo = try cachedRepository()
        let root = try rootTree(repo, commit)
        defer { git_tree_free(root) }
        let prefix = Self.normalise(path)
        var entries: [GitTreeEntry] = []
        if prefix.isEmpty {
            try walk(repo, root, prefix: "", include: include, into: &entries)
            return entries
        }
        var entry: OpaquePointer?
        let result = git_tree_entry_bypath(&entry, root, prefix)
        if result == GIT_ENOTFOUND.rawValue {
            throw CapstanError(.notFound, "\(remote): no '\(prefix)' at \(commit.short)")
        }
        try LibGit2.check(result, "\(remote): cannot read '\(prefix)'")
        defer { git_tree_entry_free(entry) }
        switch git_tree_entry_type(entry) {
        case GIT_OBJECT_TREE:
            var tree: OpaquePointer?
            try LibGit2.check(git_tree_lookup(&tree, repo, git_tree_entry_id(entry)), "\(remote): cannot read '\(prefix)'")
            defer { git_tree_free(tree) }
            try walk(repo, tree, prefix: prefix + "/", include: include, into: &entries)
        case GIT_OBJECT_BLOB where include(prefix):
            entries.append(GitTreeEntry(path: prefix, blobID: ObjectID(hex: LibGit2.hex(git_tree_entry_id(entry)))))
        default:
            break
        }
        return entries
    }

    public func blobs(_ ids: [ObjectID]) throws -> [Data] {
        let repo = try cachedRepository()
        return try ids.map { try readBlob(repo, $0, name: "blob \($0)") }
    }

    public func treeID(at commit: CommitID, path: String) throws -> ObjectID? {
        let repo = try cachedRepository()
        let root = try rootTree(repo, commit)
        defer { git_tree_free(root) }
        let normalised = Self.normalise(path)
        if normalised.isEmpty { return ObjectID(hex: LibGit2.hex(git_tree_id(root))) }
        var entry: OpaquePointer?
        let result = git_tree_entry_bypath(&entry, root, normalised)
        if result == GIT_ENOTFOUND.rawValue { return nil }
        try LibGit2.check(result, "\(remote): cannot read '\(normalised)'")
        defer { git_tree_entry_free(entry) }
        return ObjectID(hex: LibGit2.hex(git_tree_entry_id(entry)))
    }

    public func remoteHead(ref: String) throws -> CommitID? {
        let heads = try remoteRefs()
        let names = ref == "HEAD" || ref.hasPrefix("refs/") ? [ref] : ["refs/heads/\(ref)", "refs/tags/\(ref)"]
        for name in names {
            // An annotated tag is advertised twice; the `^{}` entry is the commit it points to.
            if let peeled = heads.first(where: { $0.name == name + "^{}" }) { return peeled.oid }
            if let head = heads.first(where: { $0.name == name }) { return head.oid }
        }
        return nil
    }

    /// The branch the remote's HEAD points to (`main` for `refs/heads/main`), asked of the remote;
    /// nil when the remote does not advertise it or has no HEAD.
    public func remoteDefaultBranch() throws -> String? {
        try withListingConnection { remoteHandle, authenticator in
            var buffer = git_buf()
            defer { git_buf_dispose(&buffer) }
            let result = git_remote_default_branch(&buffer, remoteHandle)
            if result == GIT_ENOTFOUND.rawValue { return nil }
            try authenticator.check(result, "\(remote): cannot read the default branch")
            let name = String(cString: buffer.ptr)
            return name.hasPrefix("refs/heads/") ? String(name.dropFirst("refs/heads/".count)) : name
        }
    }

    /// Every ref the remote advertises (ls-remote), without fetching.
    private func remoteRefs() throws -> [(name: String, oid: CommitID)] {
        try withListingConnection { remoteHandle, _ in try listHeads(remoteHandle) }
    }

    /// Connects to the remote without a repository (enough to list its refs) and calls `body` while connected.
    private func withListingConnection<T>(_ body: (OpaquePointer?, RemoteAuthenticator) throws -> T) throws -> T {
        let authenticator = try RemoteAuthenticator(remote: remote)
        var remoteHandle: OpaquePointer?
        try LibGit2.check(git_remote_create_detached(&remoteHandle, remote.url), "\(remote): cannot use remote")
        defer { git_remote_free(remoteHandle) }
        var callbacks = authenticator.callbacks()
        defer { withExtendedLifetime(authenticator) {} }
        try authenticator.check(
            git_remote_connect(remoteHandle, GIT_DIRECTION_FETCH, &callbacks, nil, nil), "\(remote): cannot connect")
        defer { git_remote_disconnect(remoteHandle) }
        return try body(remoteHandle, authenticator)
    }

    // MARK: Internals

    /// Opens the cache, creating an empty bare repository when `create` is set and there is none.
    private func openCache(create: Bool) throws -> OpaquePointer? {
        if let repository { return repository }
        var repo: OpaquePointer?
        if readsInPlace {
            let flags = UInt32(GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue)
            try LibGit2.check(git_repository_open_ext(&repo, cachePath, flags, nil), "cannot open the git repository \(cachePath)")
        } else if FileManager.default.fileExists(atPath: cachePath + "/HEAD") {
            try LibGit2.check(git_repository_open_bare(&repo, cachePath), "cannot open the git cache \(cachePath)")
        } else if create {
            try FileManager.default.createDirectory(atPath: cachePath, withIntermediateDirectories: true)
            try LibGit2.check(git_repository_init(&repo, cachePath, 1), "cannot create the git cache \(cachePath)")
        } else {
            return nil
        }
        repository = repo
        return repo
    }

    func cachedRepository() throws -> OpaquePointer {
        guard let repo = try openCache(create: false) else {
            throw CapstanError(.failedPrecondition, "\(remote): not fetched yet")
        }
        return repo
    }

    private func listHeads(_ remoteHandle: OpaquePointer?) throws -> [(name: String, oid: CommitID)] {
        var list: UnsafeMutablePointer<UnsafePointer<git_remote_head>?>?
        var count = 0
        try LibGit2.check(git_remote_ls(&list, &count, remoteHandle), "\(remote): cannot list refs")
        var heads: [(name: String, oid: CommitID)] = []
        for i in 0..<count {
            guard let head = list?[i] else { continue }
            let oidHex = withUnsafePointer(to: head.pointee.oid) { LibGit2.hex($0) }
            heads.append((String(cString: head.pointee.name), CommitID(hex: oidHex)))
        }
        return heads
    }

    func rootTree(_ repo: OpaquePointer, _ commitID: CommitID) throws -> OpaquePointer? {
        guard var oid = LibGit2.oid(commitID.hex) else {
            throw CapstanError(.invalidArgument, "'\(commitID)' is not a commit name")
        }
        var commit: OpaquePointer?
        try LibGit2.check(git_commit_lookup(&commit, repo, &oid), "\(remote): no commit \(commitID.short)")
        defer { git_commit_free(commit) }
        var tree: OpaquePointer?
        try LibGit2.check(git_commit_tree(&tree, commit), "\(remote): cannot read the tree of \(commitID.short)")
        return tree
    }

    private func walk(
        _ repo: OpaquePointer, _ tree: OpaquePointer?, prefix: String, include: (String) -> Bool, into entries: inout [GitTreeEntry]
    ) throws {
        let count = git_tree_entrycount(tree)
        for i in 0..<count {
            guard let entry = git_tree_entry_byindex(tree, i) else { continue }
            let path = prefix + String(cString: git_tree_entry_name(entry))
            switch git_tree_entry_type(entry) {
            case GIT_OBJECT_TREE:
                var subtree: OpaquePointer?
                try LibGit2.check(git_tree_lookup(&subtree, repo, git_tree_entry_id(entry)), "\(remote): cannot read '\(path)'")
                defer { git_tree_free(subtree) }
                try walk(repo, subtree, prefix: path + "/", include: include, into: &entries)
            case GIT_OBJECT_BLOB where git_tree_entry_filemode(entry) != GIT_FILEMODE_LINK && include(path):
                entries.append(GitTreeEntry(path: path, blobID: ObjectID(hex: LibGit2.hex(git_tree_entry_id(entry)))))
            default:
                break  // submodules and symbolic links
            }
        }
    }

    /// The bytes of blob `id`; `name` (a quoted path, or the blob's name) is what errors call it.
    private func readBlob(_ repo: OpaquePointer, _ id: ObjectID, name: String) throws -> Data {
        guard var oid = LibGit2.oid(id.hex) else {
            throw CapstanError(.invalidArgument, "\(remote): '\(id)' is not an object name")
        }
        var blob: OpaquePointer?
        try LibGit2.check(git_blob_lookup(&blob, repo, &oid), "\(remote): cannot read \(name)")
        defer { git_blob_free(blob) }
        let size = Int(git_blob_rawsize(blob))
        return size == 0 ? Data() : Data(bytes: git_blob_rawcontent(blob), count: size)
    }

    /// `apps/`, `/apps`, `./apps` → `apps`; `.` and `/` → the root.
    static func normalise(_ path: String) -> String {
        path.split(separator: "/").filter { $0 != "." && !$0.isEmpty }.joined(separator: "/")
    }
}
