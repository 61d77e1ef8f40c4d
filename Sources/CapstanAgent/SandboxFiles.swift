import Logging
import CapstanCore
import Foundation

/// `/files/browse` and `/files/read` as Mesos serves them, confined to the agent's sandboxes.
public struct SandboxFiles: Sendable {
    /// Sandboxes live under this directory; nothing outside it is served.
    public let root: String

    public init(workDir: String) {
        self.root = workDir + "/slaves"
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

    /// Resolves `path` (absolute, inside the sandboxes) following symlinks; refuses anything outside.
    func resolve(_ path: String) throws(CapstanError) -> String {
        guard !path.isEmpty else { throw CapstanError(.invalidArgument, "Expecting 'path' to be present") }
        guard let resolved = realpath(path, nil) else {
            throw CapstanError(.notFound, "No such file or directory: \(path)")
        }
        defer { free(resolved) }
        let real = String(cString: resolved)
        guard let rootReal = realpath(root, nil) else { throw CapstanError(.notFound, "No sandboxes exist yet") }
        defer { free(rootReal) }
        let base = String(cString: rootReal)
        guard real == base || real.hasPrefix(base + "/") else {
            throw CapstanError(.permissionDenied, "Path \(path) is outside the agent's sandboxes")
        }
        return real
    }

    /// Lists a directory.
    public func browse(_ path: String) throws(CapstanError) -> [Entry] {
        let directory = try resolve(path)
        var info = stat()
        guard stat(directory, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw CapstanError(.invalidArgument, "\(path) is not a directory")
        }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        return names.compactMap { name in
            let full = directory + "/" + name
            var st = stat()
            guard lstat(full, &st) == 0 else { return nil }
            return Entry(
                path: full, nlink: Int(st.st_nlink), size: Int64(st.st_size), mtime: Double(st.st_mtim.tv_sec),
                mode: Self.modeString(st.st_mode), uid: Self.userName(st.st_uid), gid: Self.groupName(st.st_gid))
        }
    }

    /// Reads `length` bytes from `offset`; offset -1 answers the file's size with no data (as Mesos does).
    public func read(_ path: String, offset: Int64, length: Int64?) throws(CapstanError) -> Chunk {
        let file = try resolve(path)
        guard let handle = FileHandle(forReadingAtPath: file) else {
            throw CapstanError(.notFound, "Cannot open \(path) for reading")
        }
        defer { try? handle.close() }
        let size = Int64((try? handle.seekToEnd()) ?? 0)
        if offset == -1 { return Chunk(data: "", offset: size) }
        guard offset >= 0 else { throw CapstanError(.invalidArgument, "'offset' must be -1 or non-negative") }
        let start = min(offset, size)
        let count = min(length ?? (size - start), size - start, 16 << 20)
        try? handle.seek(toOffset: UInt64(start))
        let data = (try? handle.read(upToCount: Int(max(0, count)))) ?? Data()
        return Chunk(data: String(decoding: data ?? Data(), as: UTF8.self), offset: start)
    }

    static func modeString(_ mode: mode_t) -> String {
        let type: Character = (mode & S_IFMT) == S_IFDIR ? "d" : ((mode & S_IFMT) == S_IFLNK ? "l" : "-")
        let bits: [(mode_t, Character)] = [
            (S_IRUSR, "r"), (S_IWUSR, "w"), (S_IXUSR, "x"), (S_IRGRP, "r"), (S_IWGRP, "w"), (S_IXGRP, "x"),
            (S_IROTH, "r"), (S_IWOTH, "w"), (S_IXOTH, "x"),
        ]
        return String(type) + String(bits.map { mode & $0.0 != 0 ? $0.1 : "-" })
    }

    static func userName(_ uid: uid_t) -> String {
        guard let entry = getpwuid(uid) else { return "\(uid)" }
        return String(cString: entry.pointee.pw_name)
    }

    static func groupName(_ gid: gid_t) -> String {
        guard let entry = getgrgid(gid) else { return "\(gid)" }
        return String(cString: entry.pointee.gr_name)
    }
}
