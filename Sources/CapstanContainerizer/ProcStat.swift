import Foundation
import Glibc

/// The fields Capstan reads from `/proc/<pid>/stat` (see proc(5)).
struct ProcStat: Sendable, Equatable {
    /// Field 1.
    var pid: Int32
    /// Field 3: `R`, `S`, `D`, `Z`, `T`, …
    var state: Character
    /// Field 5.
    var processGroup: Int32
    /// Field 6.
    var session: Int32
    /// Field 14, in clock ticks.
    var userTicks: UInt64
    /// Field 15, in clock ticks.
    var systemTicks: UInt64
    /// Field 22: start time in clock ticks since boot.
    var startTicks: UInt64
    /// Field 24, in pages.
    var rssPages: UInt64

    /// Whether the process has exited and waits to be reaped.
    var isZombie: Bool { state == "Z" || state == "X" }

    /// Parses one `stat` line. The command name (field 2) may hold spaces and parentheses,
    /// so fields are counted from its *last* closing parenthesis.
    static func parse(_ line: String) -> ProcStat? {
        guard let open = line.firstIndex(of: "("), let close = line.lastIndex(of: ")"), open < close,
            let pid = Int32(line[..<open].trimmingCharacters(in: " "))
        else { return nil }
        let rest = line[line.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        // rest[0] is field 3 (state); field n is rest[n - 3].
        guard rest.count >= 22, let state = rest[0].first,
            let pgrp = Int32(rest[2]), let session = Int32(rest[3]),
            let utime = UInt64(rest[11]), let stime = UInt64(rest[12]),
            let start = UInt64(rest[19]), let rss = Int64(rest[21])
        else { return nil }
        return ProcStat(
            pid: pid, state: state, processGroup: pgrp, session: session, userTicks: utime, systemTicks: stime,
            startTicks: start, rssPages: UInt64(max(rss, 0)))
    }

    /// Reads `/proc/<pid>/stat`; `nil` if the process does not exist.
    static func read(pid: Int32) -> ProcStat? {
        readSmallFile("/proc/\(pid)/stat").flatMap(parse)
    }

    /// Every process visible in `/proc` (racy by nature: processes come and go while scanning).
    static func all() -> [ProcStat] {
        guard let dir = opendir("/proc") else { return [] }
        defer { closedir(dir) }
        var result: [ProcStat] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let pid = Int32(name), let stat = read(pid: pid) else { continue }
            result.append(stat)
        }
        return result
    }

    /// The processes of the session or process group led by `leader`.
    static func members(of leader: Int32) -> [ProcStat] {
        all().filter { $0.session == leader || $0.processGroup == leader }
    }

    /// Clock ticks per second (`_SC_CLK_TCK`).
    static let ticksPerSecond: Double = Double(max(sysconf(Int32(_SC_CLK_TCK)), 1))

    /// Bytes per page.
    static let pageSize: UInt64 = UInt64(max(sysconf(Int32(_SC_PAGESIZE)), 1))
}

extension StringProtocol {
    fileprivate func trimmingCharacters(in character: Character) -> Substring {
        let s = self[...]
        guard let first = s.firstIndex(where: { $0 != character }) else { return "" }
        let last = s.lastIndex(where: { $0 != character })!
        return Substring(s[first...last])
    }
}

/// Reads a small file (under `/proc`) in one go; `nil` if it cannot be opened.
func readSmallFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            return nil
        }
        if n == 0 { break }
        bytes.append(contentsOf: chunk[0..<n])
    }
    return String(decoding: bytes, as: UTF8.self)
}

extension ProcStat {
    /// The boot time in seconds since the Unix epoch (`btime` of `/proc/stat`).
    static func bootTime() -> Double? {
        guard let text = readSmallFile("/proc/stat") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst("btime ".count).trimmingCharacters(in: " "))
        }
        return nil
    }
}

extension ProcStat {
    /// CPU times, RSS and process count summed over the session and process group led by `pid`, from
    /// `/proc/<pid>/stat`; nil when none of them is left. Shared by the launchers' `usage`.
    static func usage(ofSession pid: Int32) -> ResourceStatistics? {
        let members = members(of: pid)
        guard !members.isEmpty else { return nil }
        let ticks = ticksPerSecond
        return ResourceStatistics(
            timestamp: Date().timeIntervalSince1970,
            cpusUserTimeSecs: Double(members.reduce(0) { $0 + $1.userTicks }) / ticks,
            cpusSystemTimeSecs: Double(members.reduce(0) { $0 + $1.systemTicks }) / ticks,
            memRSSBytes: members.reduce(0) { $0 + $1.rssPages } * pageSize,
            processes: members.filter { !$0.isZombie }.count)
    }
}
