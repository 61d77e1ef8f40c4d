import CapstanLinux
import CLinux
import Glibc
import Synchronization

/// The one reaper of the agent process: a single thread, `capstan-reaper`, polls a pidfd for every process the
/// launchers wait for (children and processes adopted at recovery) and settles each one that exits — however
/// many containers run, one thread waits for them all.
///
/// It waits for exactly the processes it was given (`waitid(P_PIDFD)` per pidfd), never `waitpid(-1)`, and never
/// sets `SIGCHLD` to `SIG_IGN`: Foundation's `Process` and others reap their own children. Nothing else in the agent
/// may reap arbitrary children either, or it would steal these exit statuses.
enum ProcessReaper {
    /// Waits for child `pid` to exit, kills what is left of its group while it is a zombie, then reaps it.
    static func waitForChild(_ pid: Int32, table: ProcessTable) async -> ContainerTermination {
        await ReaperThread.shared.wait(for: pid, kind: .child, table: table)
    }

    /// Waits for a process that is not our child (adopted at recovery): through a pidfd, or by polling `/proc`
    /// on kernels without pidfds. Its exit status cannot be known.
    static func waitForAdopted(_ pid: Int32, startTicks: UInt64?, table: ProcessTable) async -> ContainerTermination {
        await ReaperThread.shared.wait(for: pid, kind: .adopted(startTicks: startTicks), table: table)
    }

    /// The name of the reaper's thread (as `/proc/self/task/*/comm` shows it).
    static let threadName = "capstan-reaper"
}

/// The thread behind ``ProcessReaper``: started on the first wait, then polls forever.
final class ReaperThread: Sendable {
    static let shared = ReaperThread()

    enum Kind: Sendable {
        case child
        case adopted(startTicks: UInt64?)
    }

    /// One waited process; `pidfd` is -1 on kernels without pidfds (then it is checked on every tick).
    struct Watch: Sendable {
        var pid: Int32
        var pidfd: Int32
        var kind: Kind
        var table: ProcessTable
        var continuation: CheckedContinuation<ContainerTermination, Never>
    }

    /// How often processes without a pidfd are checked.
    static let tickMilliseconds: Int32 = 250

    private struct State {
        var pending: [Watch] = []
        var started = false
    }

    private let state = Mutex(State())
    /// A pipe whose write end wakes the thread when a watch is added (both ends non-blocking, close-on-exec).
    private let wakeFD: Int32
    private let wakeWriteFD: Int32

    private init() {
        var fds: [Int32] = [-1, -1]
        precondition(pipe(&fds) == 0, "pipe for the reaper failed: errno \(errno)")
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        (wakeFD, wakeWriteFD) = (fds[0], fds[1])
    }

    func wait(for pid: Int32, kind: Kind, table: ProcessTable) async -> ContainerTermination {
        var pidfd = capstan_pidfd_open(pid)
        if pidfd >= 0, case .adopted(let startTicks) = kind, !Self.isSame(pid, startTicks) {
            // The pidfd pins the process: if /proc no longer shows the same one, the adopted process is gone already.
            close(pidfd)
            return Self.settle(pid: pid, pidfd: -1, kind: kind, table: table)
        }
        if pidfd < 0, case .adopted(let startTicks) = kind, !Self.isSame(pid, startTicks) {
            return Self.settle(pid: pid, pidfd: -1, kind: kind, table: table)
        }
        if pidfd < 0 { pidfd = -1 }
        let fd = pidfd
        return await withCheckedContinuation { continuation in
            let start = state.withLock { state in
                state.pending.append(Watch(pid: pid, pidfd: fd, kind: kind, table: table, continuation: continuation))
                defer { state.started = true }
                return !state.started
            }
            if start { startThread() }
            var one: UInt8 = 1
            _ = Glibc.write(wakeWriteFD, &one, 1)  // a full pipe already wakes the thread
        }
    }

    private func startThread() {
        var thread = pthread_t()
        let box = Unmanaged.passRetained(self)
        let result = pthread_create(&thread, nil, { argument in
            let reaper = Unmanaged<ReaperThread>.fromOpaque(argument!).takeRetainedValue()
            ReaperThread.nameThisThread(ProcessReaper.threadName)
            reaper.run()
            return nil
        }, box.toOpaque())
        precondition(result == 0, "pthread_create for the reaper failed: errno \(result)")
        pthread_detach(thread)
    }

    /// Names the calling thread (`/proc/thread-self/comm`; pthread_setname_np is not visible from Swift's Glibc).
    private static func nameThisThread(_ name: String) {
        let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = Array(name.utf8).withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    /// Polls the wake pipe and every pidfd; settles each process that has exited.
    private func run() -> Never {
        var watches: [Watch] = []
        while true {
            watches += state.withLock { state in
                defer { state.pending.removeAll() }
                return state.pending
            }
            let polled = watches.indices.filter { watches[$0].pidfd >= 0 }
            var fds = [pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)]
            fds += polled.map { pollfd(fd: watches[$0].pidfd, events: Int16(POLLIN), revents: 0) }
            let ticking = watches.contains { $0.pidfd < 0 }
            let ready = poll(&fds, nfds_t(fds.count), ticking ? Self.tickMilliseconds : -1)
            if ready < 0 && errno != EINTR {
                // Only EFAULT/EINVAL/ENOMEM: fall back to ticking rather than spinning.
                usleep(UInt32(Self.tickMilliseconds) * 1000)
            }
            if fds[0].revents != 0 {
                var drain = [UInt8](repeating: 0, count: 256)
                while Glibc.read(wakeFD, &drain, drain.count) > 0 {}
            }
            var exited: Set<Int> = []
            for (slot, index) in polled.enumerated() where fds[slot + 1].revents != 0 { exited.insert(index) }
            for index in watches.indices where watches[index].pidfd < 0 && Self.hasExited(watches[index]) { exited.insert(index) }
            guard !exited.isEmpty else { continue }
            for index in exited.sorted() {
                let watch = watches[index]
                watch.continuation.resume(returning: Self.settle(pid: watch.pid, pidfd: watch.pidfd, kind: watch.kind, table: watch.table))
                if watch.pidfd >= 0 { close(watch.pidfd) }
            }
            watches = watches.indices.filter { !exited.contains($0) }.map { watches[$0] }
        }
    }

    /// Whether a process watched without a pidfd has exited.
    private static func hasExited(_ watch: Watch) -> Bool {
        switch watch.kind {
        case .child: return capstan_exited_nohang(watch.pid) != 0
        case .adopted(let startTicks): return !isSame(watch.pid, startTicks)
        }
    }

    /// Under the table's lock: kills what is left of the process's group (the leader is a zombie, so its pid cannot
    /// have been reused), reaps a child and decodes its status.
    static func settle(pid: Int32, pidfd: Int32, kind: Kind, table: ProcessTable) -> ContainerTermination {
        table.finish(pid) {
            guard case .child = kind else {
                return .unknown("Command exited with an unknown status (it was recovered after an agent restart)")
            }
            var exitCode: Int32 = -1
            var signal: Int32 = -1
            let reapError = pidfd >= 0 ? capstan_pidfd_reap(pidfd, &exitCode, &signal) : capstan_reap(pid, &exitCode, &signal)
            if reapError != 0 {
                return .unknown("Failed to wait for the command: waitid: \(errnoText(reapError)) (errno \(reapError))")
            }
            if exitCode >= 0 { return .exited(exitCode) }
            return .signaled(signal)
        }
    }

    /// Whether `pid` still runs (not a zombie) and, when known, started at `startTicks`.
    static func isSame(_ pid: Int32, _ startTicks: UInt64?) -> Bool {
        guard let stat = ProcStat.read(pid: pid), !stat.isZombie else { return false }
        return startTicks.map { $0 == stat.startTicks } ?? true
    }
}
