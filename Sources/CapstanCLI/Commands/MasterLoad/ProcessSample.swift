import CapstanCore
import Foundation
import Glibc

/// One look at a process through /proc: its resident set now and at its peak, and the CPU time it has used.
struct ProcessSample: Codable, Sendable {
    /// `VmRSS` of /proc/PID/status, in KiB.
    var rssKiB: Int
    /// `VmHWM` (the peak resident set since the process started), in KiB.
    var peakRSSKiB: Int
    /// User plus system CPU time (utime + stime of /proc/PID/stat).
    var cpuSeconds: Double

    /// Reads /proc/`pid`/status and /proc/`pid`/stat; `notFound` when the process is gone.
    static func read(pid: Int32) throws -> ProcessSample {
        let statusPath = "/proc/\(pid)/status", statPath = "/proc/\(pid)/stat"
        guard let status = try? String(contentsOfFile: statusPath, encoding: .utf8),
            let stat = try? String(contentsOfFile: statPath, encoding: .utf8)
        else { throw CapstanError(.notFound, "process \(pid) is gone (cannot read \(statusPath))") }
        guard let rss = kibibytes("VmRSS", in: status), let peak = kibibytes("VmHWM", in: status) else {
            throw CapstanError(.internal, "\(statusPath) has no VmRSS or VmHWM line (a kernel thread or a zombie?)")
        }
        guard let cpu = cpuSeconds(stat: stat) else { throw CapstanError(.internal, "\(statPath): cannot read utime and stime") }
        return ProcessSample(rssKiB: rss, peakRSSKiB: peak, cpuSeconds: cpu)
    }

    /// The value of a `Name:   1234 kB` line of /proc/PID/status.
    static func kibibytes(_ name: String, in status: String) -> Int? {
        for line in status.split(separator: "\n") where line.hasPrefix(name + ":") {
            return line.dropFirst(name.count + 1).split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) }
        }
        return nil
    }

    /// utime + stime (fields 14 and 15) of /proc/PID/stat in seconds. The command name (field 2) may hold spaces and
    /// parentheses, so the fields are counted after its last ')'.
    static func cpuSeconds(stat: String) -> Double? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state), so utime (14) is fields[11] and stime (15) fields[12].
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// This process's own user plus system CPU time (getrusage).
    static func ownCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}

/// The file-descriptor limit (RLIMIT_NOFILE) of this process, which its children inherit.
struct FileDescriptorLimit: Codable, Sendable {
    var soft: UInt64
    var hard: UInt64

    /// Raises the soft limit to the hard one where it is lower, and returns the limits now in force.
    static func raiseToHard() -> FileDescriptorLimit {
        var limit = rlimit()
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        guard getrlimit(resource, &limit) == 0 else { return FileDescriptorLimit(soft: 0, hard: 0) }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(resource, &raised) == 0 { limit = raised }
        }
        return FileDescriptorLimit(soft: UInt64(limit.rlim_cur), hard: UInt64(limit.rlim_max))
    }
}
