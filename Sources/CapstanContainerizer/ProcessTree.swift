import Foundation
import Glibc

/// What `/proc` tells about a process's children and credentials.
enum ProcessTree {
    /// The first child of `pid`: `/proc/<pid>/task/<pid>/children`, else (kernels without CONFIG_PROC_CHILDREN) the
    /// first process whose parent (field 4 of `/proc/<n>/stat`) is `pid`.
    static func firstChild(of pid: Int32) -> Int32? {
        if let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8),
            let first = text.split(separator: " ").first, let child = Int32(first.trimmingCharacters(in: .whitespacesAndNewlines))
        {
            return child
        }
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let candidate = Int32(entry), parent(of: candidate) == pid else { continue }
            return candidate
        }
        return nil
    }

    /// Field 4 of `/proc/<pid>/stat` (after the parenthesised command name, which may hold spaces).
    static func parent(of pid: Int32) -> Int32? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else {
            return nil
        }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? Int32(fields[1]) : nil
    }

    /// The real uid and gid of `pid` (the `Uid:` and `Gid:` lines of `/proc/<pid>/status`).
    static func credentials(of pid: Int32) -> (uid: UInt32, gid: UInt32)? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        func first(_ key: String) -> UInt32? {
            status.split(separator: "\n").first { $0.hasPrefix(key) }
                .flatMap { $0.dropFirst(key.count).split(whereSeparator: \.isWhitespace).first }.flatMap { UInt32($0) }
        }
        guard let uid = first("Uid:"), let gid = first("Gid:") else { return nil }
        return (uid, gid)
    }
}
