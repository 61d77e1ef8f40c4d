import CapstanCore
import Foundation
import Glibc
import Logging
import NIOPosix

/// `/files/browse` and `/files/read` as Mesos serves them, confined to the agent's sandboxes.
///
/// Paths are resolved beneath the sandboxes root by the kernel, never following a symlink (see
/// `SandboxFiles+Resolve.swift`). Only directories (browse) and regular files with a single link (read) are served;
/// every other path (missing, outside the root, a symlink, a FIFO, a socket, a device, a file with other hard
/// links, one the agent may not open) gets the same 404, whose text names only the path the client gave. Reads are
/// bounded (``defaultReadLength``, at most ``maxReadLength``) and run on NIO's blocking pool, not Swift's.
public struct SandboxFiles: Sendable {
    /// Sandboxes live under this directory; nothing outside it is served.
    public let root: String
    /// What `/files/read` answers when the client names no `length` (or -1).
    public static let defaultReadLength: Int64 = 1 << 20
    /// The most one `/files/read` answers, whatever `length` asks for.
    public static let maxReadLength: Int64 = 16 << 20
    let resolution: Resolution
    let logger: Logger
    /// The sandboxes the agent has (running executors and those that ended, oldest first): the `runs/latest` aliases
    /// and `/files/debug` come from it (SandboxFiles+Virtual.swift).
    let sandboxes: @Sendable () async -> [Sandbox]

    public init(
        workDir: String, logger: Logger = Logger(label: "capstan.agent.files"),
        sandboxes: @escaping @Sendable () async -> [Sandbox] = { [] }
    ) {
        self.init(workDir: workDir, resolution: .kernel, logger: logger, sandboxes: sandboxes)
    }

    init(workDir: String, resolution: Resolution, logger: Logger, sandboxes: @escaping @Sendable () async -> [Sandbox] = { [] }) {
        self.root = workDir + "/slaves"
        self.resolution = resolution
        self.logger = logger
        self.sandboxes = sandboxes
    }

    /// One `/files/browse` entry.
    public struct Entry: Codable, Sendable, Equatable {
        public var path: String
        public var nlink: Int
        public var size: Int64
        public var mtime: Double
        public var mode: String
        public var uid: String
        public var gid: String
    }

    /// The `/files/read` answer: `data` from `offset`.
    public struct Chunk: Codable, Sendable, Equatable {
        public var data: String
        public var offset: Int64
    }

    /// The one answer for every path that is not served.
    static func notFound(_ path: String) -> CapstanError {
        CapstanError(.notFound, "No such file or directory: \(path)")
    }

    /// Lists a directory; symlinks are listed as entries (mode `l…`) and never followed.
    public func browse(_ path: String) async throws -> [Entry] {
        try await list(path).map(\.entry)
    }

    /// Lists a directory with each entry's mode bits and mtime in nanoseconds (for LIST_FILES).
    func list(_ path: String) async throws -> [Listed] {
        guard !path.isEmpty else { throw CapstanError(.invalidArgument, "Expecting 'path' to be present") }
        let real = await realPath(of: path)
        return try await NIOThreadPool.singleton.runIfActive { try listNow(real ?? "", shown: path) }
    }

    /// Reads up to `length` bytes (``defaultReadLength`` when nil or -1, at most ``maxReadLength``) from `offset`;
    /// offset -1 answers the file's size with no data, as Mesos does.
    public func read(_ path: String, offset: Int64, length: Int64?) async throws -> Chunk {
        guard !path.isEmpty else { throw CapstanError(.invalidArgument, "Expecting 'path' to be present") }
        guard offset >= -1 else { throw CapstanError(.invalidArgument, "'offset' must be -1 or non-negative") }
        if let length, length < -1 { throw CapstanError(.invalidArgument, "'length' must be -1 or non-negative") }
        let real = await realPath(of: path)
        return try await NIOThreadPool.singleton.runIfActive {
            let (bytes, start, _) = try readBytesNow(real ?? "", shown: path, offset: offset, length: length)
            return Chunk(data: String(decoding: bytes, as: UTF8.self), offset: start)
        }
    }

    /// One listed entry with what LIST_FILES reports beyond `/files/browse`.
    struct Listed {
        var entry: Entry
        var mode: mode_t
        var mtimeNanoseconds: Int64
    }

    func browseNow(_ path: String) throws -> [Entry] {
        try listNow(path, shown: path).map(\.entry)
    }

    /// Lists `path` (a real path beneath the root); errors and entries name `shown`, the path the client gave.
    func listNow(_ path: String, shown: String) throws -> [Listed] {
        guard let opened = open(path) else { throw Self.notFound(shown) }
        guard case .directory(let fd) = opened else {
            if case .regular(let fd, _) = opened { close(fd) }
            throw CapstanError(.invalidArgument, "\(shown) is not a directory")
        }
        guard let directory = fdopendir(fd) else {
            close(fd)
            throw Self.notFound(shown)
        }
        defer { closedir(directory) }
        let base = shown.count > 1 && shown.hasSuffix("/") ? String(shown.dropLast()) : shown
        var entries: [Listed] = []
        while let record = readdir(directory) {
            let name = withUnsafeBytes(of: record.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name == "." || name == ".." { continue }
            var info = stat()
            guard fstatat(fd, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            let entry = Entry(
                path: base + "/" + name, nlink: Int(info.st_nlink), size: Int64(info.st_size),
                mtime: Double(info.st_mtim.tv_sec), mode: Self.modeString(info.st_mode),
                uid: Self.userName(info.st_uid), gid: Self.groupName(info.st_gid))
            entries.append(Listed(
                entry: entry, mode: info.st_mode,
                mtimeNanoseconds: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)))
        }
        return entries.sorted { $0.entry.path < $1.entry.path }
    }

    func readNow(_ path: String, offset: Int64, length: Int64?) throws -> Chunk {
        let (bytes, start, _) = try readBytesNow(path, shown: path, offset: offset, length: length)
        return Chunk(data: String(decoding: bytes, as: UTF8.self), offset: start)
    }

    /// Opens `path` (a real path beneath the root) as a regular file; errors name `shown`. The caller closes the fd.
    func openFile(_ path: String, shown: String) throws -> (fd: Int32, size: Int64) {
        guard let opened = open(path) else {
            logger.debug("refused a sandbox file", metadata: ["path": "\(shown)"])
            throw Self.notFound(shown)
        }
        guard case .regular(let fd, let size) = opened else {
            if case .directory(let fd) = opened { close(fd) }
            throw CapstanError(.invalidArgument, "\(shown) is a directory")
        }
        return (fd, size)
    }

    /// The bytes from `offset` (clamped to the size), that offset and the file's size; offset -1 answers no bytes at the
    /// file's size.
    func readBytesNow(_ path: String, shown: String, offset: Int64, length: Int64?) throws -> (bytes: [UInt8], offset: Int64, size: Int64) {
        let (fd, size) = try openFile(path, shown: shown)
        defer { close(fd) }
        if offset == -1 { return ([], size, size) }
        let start = min(offset, size)
        let wanted = (length == nil || length == -1) ? Self.defaultReadLength : min(length!, Self.maxReadLength)
        let count = Int(max(0, min(wanted, size - start)))
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(start) + off_t(done)) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { break }  // end of file (the file shrank) or an error: answer what was read
            done += n
        }
        return (Array(bytes[..<done]), start, size)
    }

    static func modeString(_ mode: mode_t) -> String {
        let type: Character = switch mode & S_IFMT {
        case S_IFDIR: "d"
        case S_IFLNK: "l"
        case S_IFIFO: "p"
        case S_IFCHR: "c"
        case S_IFBLK: "b"
        case S_IFSOCK: "s"
        default: "-"
        }
        let bits: [(mode_t, Character)] = [
            (S_IRUSR, "r"), (S_IWUSR, "w"), (S_IXUSR, "x"), (S_IRGRP, "r"), (S_IWGRP, "w"), (S_IXGRP, "x"),
            (S_IROTH, "r"), (S_IWOTH, "w"), (S_IXOTH, "x"),
        ]
        return String(type) + String(bits.map { mode & $0.0 != 0 ? $0.1 : "-" })
    }

    /// The user's name (getpwuid_r: this runs on several pool threads at once), or the number.
    static func userName(_ uid: uid_t) -> String {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 4096) { buffer in
            var entry = passwd()
            var result: UnsafeMutablePointer<passwd>?
            guard getpwuid_r(uid, &entry, buffer.baseAddress!, buffer.count, &result) == 0, result != nil, let name = entry.pw_name
            else { return "\(uid)" }
            return String(cString: name)
        }
    }

    /// The group's name (getgrgid_r), or the number.
    static func groupName(_ gid: gid_t) -> String {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 4096) { buffer in
            var entry = group()
            var result: UnsafeMutablePointer<group>?
            guard getgrgid_r(gid, &entry, buffer.baseAddress!, buffer.count, &result) == 0, result != nil, let name = entry.gr_name
            else { return "\(gid)" }
            return String(cString: name)
        }
    }
}
