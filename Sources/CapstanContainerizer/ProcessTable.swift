import CapstanLinux
import CapstanCore
import Glibc
import Synchronization

/// A launcher's record of the processes it started or adopted.
///
/// Its lock makes signalling and reaping mutually exclusive: a signal is only ever sent while the leader is
/// alive or a zombie we have not reaped yet, so its pid (and process group id) cannot have been reused.
final class ProcessTable: Sendable {
    /// How the launcher came to know a process.
    enum Origin: Sendable, Equatable {
        /// Started by this agent process: `waitid` works and gives the exit status.
        case child
        /// Found alive at recovery: not our child, watched through a pidfd.
        case adopted
    }

    /// One known process.
    struct Record: Sendable {
        var origin: Origin
        /// The program, for error messages.
        var path: String
        /// Set while the child waits before execve.
        var held: HeldChild?
    }

    private let records = Mutex<[Int32: Record]>([:])
    /// Whether signals also go to session members that left the leader's process group (a scan of `/proc`).
    /// Not needed where a PID namespace holds the container: its processes die with its PID 1.
    private let sweepsSession: Bool

    init(sweepsSession: Bool = true) {
        self.sweepsSession = sweepsSession
    }

    /// Starts tracking `pid`.
    func add(_ pid: Int32, _ record: Record) {
        records.withLock { $0[pid] = record }
    }

    /// How `pid` is known, or `nil` if it is not (anymore).
    func origin(of pid: Int32) -> Origin? {
        records.withLock { $0[pid]?.origin }
    }

    /// Hands over the held child of `pid` (once) with its program path.
    func takeHeld(_ pid: Int32) -> (HeldChild, String)? {
        records.withLock { records in
            guard let held = records[pid]?.held, let path = records[pid]?.path else { return nil }
            records[pid]?.held = nil
            return (held, path)
        }
    }

    /// Sends `signal` to the process group and session led by `pid`.
    /// - Throws: `notFound` if `pid` is not tracked (it has been reaped); a ``CapstanError`` naming `kill` otherwise.
    func signal(_ pid: Int32, _ signal: Int32) throws {
        try records.withLock { records in
            guard records[pid] != nil else {
                throw CapstanError(.notFound, "Failed to signal process \(pid): it has already exited and been collected")
            }
            let err = Self.signalGroup(pid, signal, sweepsSession: sweepsSession)
            if err != 0 {
                throw CapstanError.system("Failed to send \(SignalName.of(signal)) to process group \(pid) with kill", errno: err)
            }
        }
    }

    /// Stops tracking `pid`: under the lock, SIGKILLs what is left of its group and session, then runs `collect`
    /// (which reaps the leader when it is our child). Closes a still-held sync fd.
    func finish<T>(_ pid: Int32, collect: () -> T) -> T {
        records.withLock { records in
            _ = Self.signalGroup(pid, SIGKILL, sweepsSession: sweepsSession)
            let result = collect()
            if let held = records.removeValue(forKey: pid)?.held { close(held.syncFD) }
            return result
        }
    }

    /// `killpg(leader)`, plus `kill` for session members that moved to a process group of their own.
    /// Returns 0, or the errno of `killpg` other than ESRCH (an empty group is nothing to signal).
    private static func signalGroup(_ leader: Int32, _ signal: Int32, sweepsSession: Bool) -> Int32 {
        var err: Int32 = 0
        if killpg(leader, signal) != 0 && errno != ESRCH { err = errno }
        guard sweepsSession else { return err }
        for member in ProcStat.members(of: leader) where member.processGroup != leader && !member.isZombie {
            _ = kill(member.pid, signal)
        }
        return err
    }
}
