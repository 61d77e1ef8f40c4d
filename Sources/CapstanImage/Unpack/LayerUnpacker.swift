import CLibArchive
import CapstanLinux
public import CapstanCore
import Foundation
public import Logging

/// Unpacks image layer tarballs (plain, gzip or zstd, through libarchive) into a directory, never writing outside it.
///
/// Refused, with an error naming the entry: absolute paths, `..` components, writes through a symlinked parent
/// directory, hard links whose target is outside the layer or missing, device nodes, and layers that expand past
/// ``maxLayerSize``.
public struct LayerUnpacker: Sendable {
    /// What to do with OCI whiteouts (`.wh.NAME`) and opaque-directory markers (`.wh..wh..opq`).
    public enum WhiteoutMode: String, Sendable, Codable {
        /// Apply them to the directory: delete the named file, empty the opaque directory of older content.
        /// Used to flatten layers one on top of the other into a single tree.
        case apply
        /// Write them as overlayfs does: a 0/0 character device, and `trusted.overlay.opaque=y`. Needs root.
        case overlay
        /// Keep the OCI marker files as they are (lossless, needs no privileges; not mountable as is).
        case markers
    }

    /// What one unpack did.
    public struct Summary: Sendable, Equatable {
        /// Entries read from the archive.
        public var entries: Int = 0
        /// Whiteouts and opaque markers seen.
        public var whiteouts: Int = 0
        /// The bytes the layer expanded to (see ``LayerLimits``).
        public var bytes: Int64 = 0
    }

    private let logger: Logger
    /// The most one archive may expand to; unpacking stops with an error past it.
    public let maxLayerSize: Int64

    /// Creates an unpacker logging to `logger`, refusing archives that expand past `maxLayerSize`.
    public init(logger: Logger, maxLayerSize: Int64 = LayerLimits.defaultMaxLayerSize) {
        self.logger = logger
        self.maxLayerSize = maxLayerSize
    }

    /// Unpacks the archive at `archivePath` into the existing directory `directory`. Blocking.
    @discardableResult
    public func unpack(archive archivePath: String, into directory: String, whiteouts mode: WhiteoutMode) throws -> Summary {
        guard let archive = archive_read_new() else { throw CapstanError(.internal, "libarchive could not allocate a reader") }
        defer { archive_read_free(archive) }
        archive_read_support_filter_all(archive)
        archive_read_support_format_tar(archive)
        archive_read_support_format_empty(archive)
        guard archive_read_open_filename(archive, archivePath, 1 << 16) == ARCHIVE_OK else {
            throw CapstanError(.invalidArgument, "cannot read layer \(archivePath): \(Self.errorText(archive))")
        }
        return try unpack(reader: archive, archivePath: archivePath, into: directory, whiteouts: mode)
    }

    /// Extracts every entry of an opened tar reader into `directory`.
    func unpack(reader archive: OpaquePointer, archivePath: String, into directory: String, whiteouts mode: WhiteoutMode) throws -> Summary {
        let root = try LayerRoot(path: directory)
        var run = UnpackRun(archive: archive, archivePath: archivePath, root: root, mode: mode, limit: maxLayerSize, logger: logger)
        try run.perform()
        return run.summary
    }

    /// The SHA-256 of the archive's decompressed bytes: the layer's diff ID. Blocking.
    public static func uncompressedDigest(of archivePath: String) throws -> Digest {
        guard let archive = archive_read_new() else { throw CapstanError(.internal, "libarchive could not allocate a reader") }
        defer { archive_read_free(archive) }
        archive_read_support_filter_all(archive)
        archive_read_support_format_raw(archive)
        guard archive_read_open_filename(archive, archivePath, 1 << 16) == ARCHIVE_OK else {
            throw CapstanError(.invalidArgument, "cannot read layer \(archivePath): \(errorText(archive))")
        }
        var entry: OpaquePointer?
        var hasher = DigestHasher()
        let status = archive_read_next_header(archive, &entry)
        if status == ARCHIVE_EOF { return hasher.finalize() }
        guard status >= ARCHIVE_WARN else {
            throw CapstanError(.invalidArgument, "cannot decompress layer \(archivePath): \(errorText(archive))")
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = archive_read_data(archive, buffer.baseAddress, buffer.count)
            if n == 0 { break }
            guard n > 0 else { throw CapstanError(.invalidArgument, "cannot decompress layer \(archivePath): \(errorText(archive))") }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
        return hasher.finalize()
    }

    static func errorText(_ archive: OpaquePointer) -> String {
        archive_error_string(archive).map { String(cString: $0) } ?? "unknown libarchive error"
    }

    /// The error for a layer that expands past `limit`.
    static func tooLarge(_ archivePath: String, limit: Int64) -> CapstanError {
        CapstanError(.invalidArgument, "refusing layer \(archivePath): it expands to more than \(LayerLimits.describe(limit)), the most a layer may (--max-layer-size)")
    }
}

/// The rules on entry names that the unpacker and the inspector share.
enum LayerEntryRules {
    static func refuse(_ name: String, _ reason: String, in archivePath: String) -> CapstanError {
        CapstanError(.permissionDenied, "refusing layer entry '\(name)' in \(archivePath): \(reason)")
    }

    /// Splits an entry name into components; refuses absolute paths and `..`.
    static func components(of name: String, entry: String, what: String = "it", in archivePath: String) throws -> [String] {
        if name.hasPrefix("/") { throw refuse(entry, "\(what) is an absolute path", in: archivePath) }
        let parts = name.split(separator: "/", omittingEmptySubsequences: true).map(String.init).filter { $0 != "." }
        if parts.contains("..") { throw refuse(entry, "\(what) has a '..' component", in: archivePath) }
        return parts
    }

    /// The target a whiteout entry's base name (`.wh.NAME`) removes: nil for an opaque marker or other AUFS metadata.
    static func whiteoutTarget(_ base: String, entry: String, in archivePath: String) throws -> String? {
        if base.hasPrefix(".wh..wh.") { return nil }
        let target = String(base.dropFirst(4))
        guard !target.isEmpty, target != ".", target != ".." else { throw refuse(entry, "it is a whiteout of nothing", in: archivePath) }
        return target
    }
}

/// The state of one unpack: the entries this layer wrote, and directories whose mode and time are set last.
private struct UnpackRun {
    let archive: OpaquePointer
    let archivePath: String
    let root: LayerRoot
    let mode: LayerUnpacker.WhiteoutMode
    let limit: Int64
    let logger: Logger
    var summary = LayerUnpacker.Summary()
    /// The sizes regular-file entries declared so far.
    var declared: Int64 = 0
    var written: Set<String> = []
    var opaqueDirectories: [[String]] = []
    var directories: [(components: [String], mode: mode_t, mtime: timespec)] = []
    let isRoot = geteuid() == 0

    init(archive: OpaquePointer, archivePath: String, root: LayerRoot, mode: LayerUnpacker.WhiteoutMode, limit: Int64, logger: Logger) {
        self.archive = archive
        self.archivePath = archivePath
        self.root = root
        self.mode = mode
        self.limit = limit
        self.logger = logger
    }

    func refuse(_ name: String, _ reason: String) -> CapstanError {
        LayerEntryRules.refuse(name, reason, in: archivePath)
    }

    func components(of name: String, entry: String, what: String = "it") throws -> [String] {
        try LayerEntryRules.components(of: name, entry: entry, what: what, in: archivePath)
    }

    /// Counts what the archive expanded to so far (`entrySize` more declared); throws past the limit.
    mutating func account(_ entrySize: Int64) throws {
        declared += max(0, entrySize)
        summary.bytes = max(archive_filter_bytes(archive, 0), declared)
        if summary.bytes > limit { throw LayerUnpacker.tooLarge(archivePath, limit: limit) }
    }

    func openParent(_ components: [String], entry: String, create: Bool = true) throws -> Int32 {
        do {
            return try root.openDirectory(components.dropLast(), create: create)
        } catch {
            switch error {
            case .symlink(let path): throw refuse(entry, "its parent '\(path)' is a symlink, and writes never go through symlinks")
            case .notDirectory(let path): throw refuse(entry, "its parent '\(path)' is not a directory")
            case .missing(let path): throw refuse(entry, "'\(path)' does not exist")
            case .system(let path, let reason): throw CapstanError(.internal, "cannot open '\(path)' for layer entry '\(entry)' in \(archivePath): \(reason)")
            }
        }
    }

    mutating func perform() throws {
        var entry: OpaquePointer?
        while true {
            let status = archive_read_next_header(archive, &entry)
            if status == ARCHIVE_EOF { break }
            guard status >= ARCHIVE_WARN, let entry else {
                throw CapstanError(.invalidArgument, "cannot read layer \(archivePath): \(LayerUnpacker.errorText(archive))")
            }
            summary.entries += 1
            let hardlink = archive_entry_hardlink(entry) != nil
            try account(archive_entry_filetype(entry) == S_IFREG && !hardlink ? archive_entry_size(entry) : 0)
            try extract(entry)
        }
        if mode == .apply {
            for directory in opaqueDirectories { try pruneOpaque(directory) }
        }
        for directory in directories.reversed() {
            guard let fd = try? root.openDirectory(directory.components[...], create: false) else { continue }
            fchmod(fd, directory.mode)
            var times = [directory.mtime, directory.mtime]
            futimens(fd, &times)
            close(fd)
        }
    }

    mutating func extract(_ entry: OpaquePointer) throws {
        guard let rawName = archive_entry_pathname(entry) else { throw CapstanError(.invalidArgument, "layer \(archivePath) has an entry without a name") }
        let name = String(cString: rawName)
        let parts = try components(of: name, entry: name)
        guard let base = parts.last else { return }  // the layer root itself
        let type = archive_entry_filetype(entry)
        let perm = archive_entry_perm(entry) & 0o7777
        var mtime = timespec(tv_sec: archive_entry_mtime(entry), tv_nsec: archive_entry_mtime_nsec(entry))

        if base.hasPrefix(".wh.") && mode != .markers {
            summary.whiteouts += 1
            try whiteout(parts, entry: name)
            return
        }
        if type == S_IFCHR || type == S_IFBLK {
            throw refuse(name, "device nodes are not allowed in layers")
        }

        let parent = try openParent(parts, entry: name)
        defer { close(parent) }
        let existing = LayerRoot.type(of: base, in: parent)
        let hardlink = archive_entry_hardlink(entry).map { String(cString: $0) }
        if !(type == S_IFDIR && existing == S_IFDIR && hardlink == nil), existing != nil {
            try LayerRoot.removeTree(base, in: parent)
        }
        written.insert(parts.joined(separator: "/"))

        if let hardlink {
            try link(hardlink, at: base, in: parent, entry: name)
            return
        }
        switch type {
        case S_IFDIR:
            if existing != S_IFDIR, mkdirat(parent, base, 0o700) != 0 {
                throw CapstanError.system("cannot create directory for layer entry '\(name)'", errno: errno)
            }
            let fd = openat(parent, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { throw CapstanError.system("cannot open directory for layer entry '\(name)'", errno: errno) }
            defer { close(fd) }
            if isRoot { fchown(fd, uid_t(archive_entry_uid(entry)), gid_t(archive_entry_gid(entry))) }
            setXattrs(entry, fd: fd, name: name)
            directories.append((parts, perm, mtime))
        case S_IFREG:
            let fd = openat(parent, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw CapstanError.system("cannot create file for layer entry '\(name)'", errno: errno) }
            defer { close(fd) }
            try copyData(to: fd, size: archive_entry_size(entry), name: name)
            if isRoot { fchown(fd, uid_t(archive_entry_uid(entry)), gid_t(archive_entry_gid(entry))) }
            fchmod(fd, perm)
            setXattrs(entry, fd: fd, name: name)
            var times = [mtime, mtime]
            futimens(fd, &times)
        case S_IFLNK:
            let target = archive_entry_symlink(entry).map { String(cString: $0) } ?? ""
            guard symlinkat(target, parent, base) == 0 else {
                throw CapstanError.system("cannot create symlink for layer entry '\(name)'", errno: errno)
            }
            if isRoot { fchownat(parent, base, uid_t(archive_entry_uid(entry)), gid_t(archive_entry_gid(entry)), AT_SYMLINK_NOFOLLOW) }
            var times = [mtime, mtime]
            utimensat(parent, base, &times, AT_SYMLINK_NOFOLLOW)
        case S_IFIFO:
            guard mkfifoat(parent, base, perm) == 0 else {
                throw CapstanError.system("cannot create fifo for layer entry '\(name)'", errno: errno)
            }
            if isRoot { fchownat(parent, base, uid_t(archive_entry_uid(entry)), gid_t(archive_entry_gid(entry)), AT_SYMLINK_NOFOLLOW) }
            utimensat(parent, base, &mtime, AT_SYMLINK_NOFOLLOW)
        default:
            logger.debug("skipped layer entry of unsupported type", metadata: ["entry": "\(name)", "type": "\(type)"])
        }
    }

    /// Hard-links `base` in `parent` to `target`, which must already exist inside the layer.
    func link(_ target: String, at base: String, in parent: Int32, entry: String) throws {
        let targetParts = try components(of: target, entry: entry, what: "its hard-link target '\(target)'")
        guard let targetBase = targetParts.last else { throw refuse(entry, "its hard-link target is the layer root") }
        let targetParent = try openParent(targetParts, entry: entry, create: false)
        defer { close(targetParent) }
        guard let type = LayerRoot.type(of: targetBase, in: targetParent) else {
            throw refuse(entry, "its hard-link target '\(target)' is not in the layer")
        }
        guard type != S_IFDIR else { throw refuse(entry, "its hard-link target '\(target)' is a directory") }
        guard linkat(targetParent, targetBase, parent, base, 0) == 0 else {
            throw CapstanError.system("cannot create hard link for layer entry '\(entry)'", errno: errno)
        }
    }

    func copyData(to fd: Int32, size: Int64, name: String) throws {
        var buffer: UnsafeRawPointer?
        var length = 0
        var offset: la_int64_t = 0
        while true {
            let status = archive_read_data_block(archive, &buffer, &length, &offset)
            if status == ARCHIVE_EOF { break }
            guard status >= ARCHIVE_WARN else {
                throw CapstanError(.invalidArgument, "cannot read data of layer entry '\(name)' in \(archivePath): \(LayerUnpacker.errorText(archive))")
            }
            var done = 0
            while done < length, let buffer {
                let n = pwrite(fd, buffer + done, length - done, off_t(offset) + off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw CapstanError.system("cannot write layer entry '\(name)'", errno: errno)
                }
                done += n
            }
        }
        ftruncate(fd, off_t(size))
    }

    /// Copies the entry's extended attributes where the file system allows; overlay's own are never taken from a layer.
    func setXattrs(_ entry: OpaquePointer, fd: Int32, name: String) {
        guard archive_entry_xattr_reset(entry) > 0 else { return }
        var key: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var size = 0
        while archive_entry_xattr_next(entry, &key, &value, &size) == ARCHIVE_OK {
            guard let key else { continue }
            let attribute = String(cString: key)
            if attribute.hasPrefix("trusted.overlay.") { continue }
            if fsetxattr(fd, key, value, size, 0) != 0 {
                logger.debug("could not set xattr", metadata: ["entry": "\(name)", "xattr": "\(attribute)", "error": "\(errnoText(errno))"])
            }
        }
    }

    /// Handles `.wh.NAME` and `.wh..wh..opq` according to the mode.
    mutating func whiteout(_ parts: [String], entry: String) throws {
        let base = parts.last!
        let parent = try openParent(parts, entry: entry)
        defer { close(parent) }
        if base == ".wh..wh..opq" {
            switch mode {
            case .apply: opaqueDirectories.append(Array(parts.dropLast()))
            case .overlay:
                guard fsetxattr(parent, "trusted.overlay.opaque", "y", 1, 0) == 0 else {
                    throw CapstanError(.permissionDenied, "cannot mark '\(parts.dropLast().joined(separator: "/"))' opaque for layer entry '\(entry)' (trusted xattrs need root): \(errnoText(errno))")
                }
            case .markers: break
            }
            return
        }
        guard let target = try LayerEntryRules.whiteoutTarget(base, entry: entry, in: archivePath) else { return }  // other AUFS metadata
        switch mode {
        case .apply:
            try LayerRoot.removeTree(target, in: parent)
        case .overlay:
            try LayerRoot.removeTree(target, in: parent)
            guard mknodat(parent, target, S_IFCHR, 0) == 0 else {
                throw CapstanError(.permissionDenied, "cannot create the overlay whiteout for layer entry '\(entry)' (needs root): \(errnoText(errno))")
            }
        case .markers: break
        }
    }

    /// Removes from an opaque directory everything this layer did not write.
    func pruneOpaque(_ directory: [String]) throws {
        guard let fd = try? root.openDirectory(directory[...], create: false) else { return }
        defer { close(fd) }
        for child in try LayerRoot.children(of: fd) {
            let path = (directory + [child]).joined(separator: "/")
            if written.contains(path) {
                if LayerRoot.type(of: child, in: fd) == S_IFDIR { try pruneOpaque(directory + [child]) }
            } else {
                try LayerRoot.removeTree(child, in: fd)
            }
        }
    }
}
