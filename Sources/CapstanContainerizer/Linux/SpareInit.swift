import Foundation
import Glibc

/// One `capstan-init` started ahead of need: it waits for its spec on fd 3, so a launch skips the executable's load
/// (a few ms for a Swift binary) on its critical path. Holds at most one; a spare found dead is collected and dropped.
/// When the launcher goes away, the spare's sockets close and it exits (reaped on a thread of its own).
final class SpareInit: Sendable {
    /// The spare's process, the agent's end of its sync socket and of its spec socket.
    typealias Started = (child: HeldChild, syncFD: Int32, specFD: Int32)
    private struct State: Sendable {
        var spare: HeldSpare?
        var filling = false
    }
    private struct HeldSpare: Sendable {
        var child: HeldChild
        var syncFD: Int32
        var specFD: Int32
    }
    private let state = LockedBox(State())

    /// Takes the spare if there is a live one.
    func take() -> Started? {
        guard let spare = state.withLock({ state -> HeldSpare? in
            defer { state.spare = nil }
            return state.spare
        }) else { return nil }
        var info = siginfo_t()
        if waitid(P_PID, id_t(spare.child.pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0, info._sifields._kill.si_pid == 0,
            !Self.isDying(spare.child.pid)
        {
            return (spare.child, spare.syncFD, spare.specFD)
        }
        Self.discard(spare)
        return nil
    }

    /// Starts a new spare on a thread of its own unless one is held or being started.
    func refill(_ spawn: @escaping @Sendable () -> Started?) {
        let start = state.withLock { state -> Bool in
            guard state.spare == nil, !state.filling else { return false }
            state.filling = true
            return true
        }
        guard start else { return }
        Task.detached {
            let started = await DedicatedThread.run(name: "capstan-spare") { spawn() }
            let surplus = self.state.withLock { state -> HeldSpare? in
                state.filling = false
                guard let started else { return nil }
                let spare = HeldSpare(child: started.child, syncFD: started.syncFD, specFD: started.specFD)
                if state.spare == nil {
                    state.spare = spare
                    return nil
                }
                return spare
            }
            if let surplus { Self.discard(surplus) }
        }
    }

    deinit {
        if let spare = state.withLock({ $0.spare }) { Self.discard(spare) }
    }

    /// Whether a fatal signal (SIGKILL, SIGTERM) is pending for `pid`: it is about to exit, so it must not get a spec.
    private static func isDying(_ pid: Int32) -> Bool {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return true }
        for line in status.split(separator: "\n") where line.hasPrefix("SigPnd:") || line.hasPrefix("ShdPnd:") {
            guard let mask = UInt64(line.split(separator: "\t").last ?? "", radix: 16) else { continue }
            if mask & (1 << (UInt64(SIGKILL) - 1)) != 0 || mask & (1 << (UInt64(SIGTERM) - 1)) != 0 { return true }
        }
        return false
    }

    /// Closes the spare's sockets (it exits on EOF), kills it to be sure and reaps it on a thread of its own.
    private static func discard(_ spare: HeldSpare) {
        close(spare.specFD)
        close(spare.syncFD)
        kill(spare.child.pid, SIGKILL)
        let pid = spare.child.pid
        Task.detached {
            await DedicatedThread.run(name: "capstan-spare") {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            }
        }
    }
}
