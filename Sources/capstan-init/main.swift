// capstan-init: the container's monitor and its PID 1.
//
// Started by LinuxLauncher (possibly ahead of the container, as its spare) with stdio on /dev/null and:
//   fd 3  the InitSpec as JSON (read to EOF, then closed); stdout and stderr are then opened in its sandbox
//   fd 4  the sync socket, spoken in `InitReport` frames (CapstanInitSpec): the monitor forks PID 1 at once and
//         sends `pid1(<host pid of PID 1>)`; the agent moves both into the container's cgroups while PID 1 builds
//         the root filesystem, then sends one byte (the barrier: PID 1 forks the task only after it, so the task
//         starts inside the cgroups); one report comes back, `started` once the task has been executed, or
//         `failed(stage, errno, detail)`.
//         (PID 1 learns that the task's execve succeeded from EOF on a close-on-exec pipe only it and the task hold;
//         EOF on the sync socket itself is no signal, as a fork elsewhere in the agent may hold a copy for a while.)
//
//   monitor (host pid ns) ── unshare(NEWPID), fork ──▶ PID 1 (new mount/uts/ipc[/net] ns: rootfs, pivot_root)
//                                                        └── fork ──▶ task (user, capabilities, no_new_privs, execve)
// PID 1 reaps zombies and forwards signals to the task; when the task ends it reports the status to the monitor,
// which writes <state>/exit_status and then ends the same way (exit code, or the same signal).
//
// `capstan-init --task-monitor <file>` is the other mode: the monitor of a plain task (see TaskMonitor.swift).
//
// Synchronous and single-threaded on purpose: it forks. No Dispatch, no async, no Foundation thread pools.
import CLinux
import CapstanInitSpec
import FoundationEssentials
import Glibc

let specFD: Int32 = 3
let syncFD: Int32 = 4

/// The step capstan-init is in, reported with a failure. Single-threaded: each phase sets it as it starts.
nonisolated(unsafe) var stage: InitStage = .spec

/// Reports a failed step (`detail` and the errno of the call that failed) on the sync socket and stderr, and
/// leaves with status 127.
func fail(_ detail: String, errno code: Int32) -> Never {
    report(InitFailure(stage: stage, errno: code, detail: detail), text: "\(detail): \(String(cString: strerror(code))) (errno \(code))")
}

/// Reports a failed step that no system call explains (a user not in /etc/passwd), and leaves with status 127.
func fail(_ detail: String) -> Never {
    report(InitFailure(stage: stage, errno: 0, detail: detail), text: detail)
}

/// The task's end of the exec pipe (see `containerMain`); a byte on it tells PID 1 that execve failed.
nonisolated(unsafe) var execFailureFD: Int32 = -1

private func report(_ failure: InitFailure, text: String) -> Never {
    send(.failed(failure))
    if execFailureFD >= 0 { writeAll(execFailureFD, "x") }
    writeAll(2, "capstan-init: \(stage): \(text)\n")
    _exit(127)
}

/// Writes one report frame to the sync socket.
func send(_ report: InitReport) {
    writeAll(syncFD, report.bytes)
}

func writeAll(_ fd: Int32, _ text: String) {
    writeAll(fd, Array(text.utf8))
}

func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
    var bytes = bytes
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
        if n < 0 {
            if errno == EINTR { continue }
            return
        }
        offset += n
    }
}

func readAll(_ fd: Int32) -> [UInt8]? {
    var data: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            return nil
        }
        if n == 0 { return data }
        data.append(contentsOf: buffer[0..<n])
    }
}

func check(_ rc: Int32, _ what: @autoclosure () -> String) {
    if rc != 0 { fail(what(), errno: errno) }
}

/// The signals PID 1 and the monitor forward to the task.
let forwarded: [Int32] = [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH]

/// Blocks `signals` (plus SIGCHLD) and installs a no-op handler for each: a namespace's init only receives signals
/// from outside for which it has a handler. They are then taken with `sigwait`.
func blockForwardedSignals() -> sigset_t {
    var set = sigset_t()
    sigemptyset(&set)
    for sig in forwarded + [SIGCHLD] {
        sigaddset(&set, sig)
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        sigaction(sig, &action, nil)
    }
    sigprocmask(SIG_BLOCK, &set, nil)
    return set
}

// MARK: - Monitor

func monitorMain() -> Never {
    _ = fcntl(syncFD, F_SETFD, FD_CLOEXEC)
    stage = .spec
    guard let data = readAll(specFD) else { fail("read of the spec from fd 3", errno: errno) }
    close(specFD)
    let spec: InitSpec
    do { spec = try JSONDecoder().decode(InitSpec.self, from: Data(data)) } catch { fail("decode of the spec: \(error)") }
    // The agent may have started this process before it knew the container: stdout and stderr become the sandbox's
    // files only now.
    stage = .sandbox
    for (target, name) in [(Int32(1), "stdout"), (Int32(2), "stderr")] {
        let path = spec.sandboxDirectory + "/" + name
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0o644)
        if fd < 0 { fail("open '\(path)'", errno: errno) }
        check(dup2(fd, target) == target ? 0 : -1, "dup2 of '\(path)'")
        close(fd)
    }
    // No barrier here: PID 1 builds the container's root while the agent moves it and this process into the
    // cgroups (the kernel's first cgroup move can take a grace period); PID 1 waits at the barrier before the task.
    stage = .namespaces
    var statusPipe: [Int32] = [-1, -1]
    check(pipe(&statusPipe), "pipe")
    for fd in statusPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    // PID 1 closes its end once its namespaces exist: the agent learns its pid only then, so that the network
    // isolator never finds it still in the host's network namespace.
    var readyPipe: [Int32] = [-1, -1]
    check(pipe(&readyPipe), "pipe")
    for fd in readyPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    let signals = blockForwardedSignals()
    check(capstan_unshare(CAPSTAN_CLONE_NEWPID), "unshare(CLONE_NEWPID)")
    let child = capstan_fork()
    if child < 0 { fail("fork of the container's PID 1", errno: errno) }
    if child == 0 {
        close(statusPipe[0])
        close(readyPipe[0])
        containerMain(spec, statusFD: statusPipe[1], readyFD: readyPipe[1], signals: signals)
    }
    close(statusPipe[1])
    close(readyPipe[1])
    var ready: UInt8 = 0
    while read(readyPipe[0], &ready, 1) < 0 && errno == EINTR {}  // EOF: PID 1 is in its namespaces, or has failed
    close(readyPipe[0])
    send(.pid1(child))
    close(syncFD)

    var exitCode: Int32 = -1
    var termSignal: Int32 = -1
    loop: while true {
        var sig: Int32 = 0
        if sigwait(signals.pointer, &sig) != 0 { continue }
        if sig == SIGCHLD {
            while true {
                var status: Int32 = 0
                let pid = waitpid(-1, &status, WNOHANG)
                if pid <= 0 { break }
                if pid == child {
                    capstan_decode_wait_status(status, &exitCode, &termSignal)
                    break loop
                }
            }
        } else {
            kill(child, sig)
        }
    }
    // What PID 1 reported about the task wins over PID 1's own status.
    if let report = readAll(statusPipe[0]).flatMap({ ExitStatusFile.decode(String(decoding: $0, as: UTF8.self)) }) {
        exitCode = report.exitCode ?? -1
        termSignal = report.signal ?? -1
    }
    recordExitStatus(exitCode: exitCode, signal: termSignal, to: spec.stateDirectory + "/" + ExitStatusFile.name)
    endLike(exitCode: exitCode, signal: termSignal)
}

extension sigset_t {
    var pointer: UnsafePointer<sigset_t> {
        // sigwait only reads the set; a stable copy for the whole process lifetime.
        let storage = UnsafeMutablePointer<sigset_t>.allocate(capacity: 1)
        storage.initialize(to: self)
        return UnsafePointer(storage)
    }
}

// MARK: - PID 1

func containerMain(_ spec: InitSpec, statusFD: Int32, readyFD: Int32, signals: sigset_t) -> Never {
    eraseHostTraces()
    var flags = CAPSTAN_CLONE_NEWNS | CAPSTAN_CLONE_NEWUTS | CAPSTAN_CLONE_NEWIPC
    if spec.isolateNetwork { flags |= CAPSTAN_CLONE_NEWNET }
    check(capstan_unshare(Int32(flags)), "unshare(CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC\(spec.isolateNetwork ? "|CLONE_NEWNET" : ""))")
    // Nothing mounted from here on may propagate back to the host.
    check(mount(nil, "/", nil, UInt(MS_REC | MS_PRIVATE), nil), "mount / private")
    if spec.isolateNetwork {
        stage = .network
        bringUpLoopback()
        stage = .namespaces
    }
    close(readyFD)
    if let hostname = spec.hostname { check(sethostname(hostname, hostname.utf8.count), "sethostname '\(hostname)'") }

    stage = .rootfs
    if let rootfs = spec.rootfs {
        RootfsBuilder(spec: spec, rootfs: rootfs).build()
    } else {
        // No image: the host's filesystem, with a /proc of the new pid namespace.
        check(mount("proc", "/proc", "proc", UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC), nil), "mount proc on /proc")
        // Mounts over existing host paths only (e.g. /etc/hosts of a networked container), in this private namespace;
        // nothing is created on the host.
        for bind in spec.mounts {
            stage = .mounts
            bindMount(bind, on: bind.target, what: "'\(bind.source)'")
            stage = .rootfs
        }
    }

    stage = .user
    let credentials = resolveUser(spec.process.user)
    stage = .capabilities
    let keep = spec.capabilities.reduce(UInt64(0)) { $0 | (UInt64(1) << UInt64($1)) }
    var step: Int32 = 0
    let capsError = capstan_restrict_capabilities(keep | capabilityBit(CAP_SETUID) | capabilityBit(CAP_SETGID) | capabilityBit(CAP_SETPCAP)
        | capabilityBit(CAP_KILL), &step)
    if capsError != 0 { fail(capabilityStep(step), errno: capsError) }

    // The barrier: the task is forked only once the agent has put this process and the monitor into the
    // container's cgroups, so the task and everything it forks run under the limits.
    var go: UInt8 = 0
    var released = 0
    repeat { released = read(syncFD, &go, 1) } while released < 0 && errno == EINTR
    if released != 1 { _exit(127) }  // the agent gave up on this container

    stage = .namespaces
    var execPipe: [Int32] = [-1, -1]
    check(pipe(&execPipe), "pipe")
    for fd in execPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    let task = capstan_fork()
    if task < 0 { fail("fork of the task", errno: errno) }
    if task == 0 {
        close(statusFD)
        close(execPipe[0])
        execFailureFD = execPipe[1]
        taskMain(spec, credentials: credentials, keep: keep, signals: signals)
    }
    close(execPipe[1])
    var byte: UInt8 = 0
    var got = 0
    repeat { got = read(execPipe[0], &byte, 1) } while got < 0 && errno == EINTR
    close(execPipe[0])
    if got == 0 { send(.started) }  // EOF: the task's execve closed its end; otherwise it reported already
    close(syncFD)
    // PID 1: reap everything; forward signals to the task; leave when the task has ended.
    while true {
        var sig: Int32 = 0
        if sigwait(signals.pointer, &sig) != 0 { continue }
        if sig != SIGCHLD {
            kill(task, sig)
            continue
        }
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid <= 0 { break }
            if pid == task {
                var code: Int32 = -1
                var termSignal: Int32 = -1
                capstan_decode_wait_status(status, &code, &termSignal)
                writeAll(statusFD, ExitStatusFile.encode(exitCode: code >= 0 ? code : nil, signal: termSignal >= 0 ? termSignal : nil))
                _exit(0)
            }
        }
    }
}

func capabilityBit(_ cap: Int32) -> UInt64 { UInt64(1) << UInt64(cap) }
let CAP_SETGID: Int32 = 6
let CAP_SETUID: Int32 = 7
let CAP_SETPCAP: Int32 = 8
let CAP_KILL: Int32 = 5

func capabilityStep(_ step: Int32) -> String {
    switch step {
    case 1: "prctl(PR_CAPBSET_DROP)"
    case 2: "prctl(PR_CAP_AMBIENT_CLEAR_ALL)"
    default: "capset"
    }
}

/// The task: credentials, capabilities, no_new_privs, working directory, execve.
func taskMain(_ spec: InitSpec, credentials: UserSpecResolver.Resolved, keep: UInt64, signals: sigset_t) -> Never {
    var empty = sigset_t()
    sigemptyset(&empty)
    for sig in forwarded + [SIGCHLD] { signal(sig, SIG_DFL) }
    sigprocmask(SIG_SETMASK, &empty, nil)
    let user = spec.process.user ?? "root"
    stage = .sandbox
    if credentials.uid != 0 || credentials.gid != 0 { handOverSandbox(spec, to: credentials, user: user) }
    stage = .user
    var groups = credentials.groups.map { gid_t($0) }
    for gid in spec.process.additionalGroups ?? [] where !groups.contains(gid) { groups.append(gid) }
    check(setgroups(groups.count, &groups), "setgroups for user '\(user)'")
    check(setgid(credentials.gid), "setgid \(credentials.gid)")
    check(setuid(credentials.uid), "setuid \(credentials.uid)")
    stage = .capabilities
    if credentials.uid == 0 {
        var step: Int32 = 0
        let rc = capstan_restrict_capabilities(keep, &step)
        if rc != 0 { fail(capabilityStep(step), errno: rc) }
    }
    check(capstan_set_no_new_privs(), "prctl(PR_SET_NO_NEW_PRIVS)")
    stage = .exec
    check(chdir(spec.process.workingDirectory), "chdir '\(spec.process.workingDirectory)'")
    let environment = credentials.loginEnvironment(spec.process.environment)
    let path = spec.process.path
    var candidates = [path]
    if !path.contains("/") {
        let searchPath = environment.first { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) }
            ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        candidates = searchPath.split(separator: ":", omittingEmptySubsequences: false).map { ($0.isEmpty ? "." : String($0)) + "/" + path }
    }
    let argv = spec.process.arguments.map { strdup($0) } + [nil]
    let envp = environment.map { strdup($0) } + [nil]
    var lastError = ENOENT
    var sawEACCES = false
    for candidate in candidates {
        execve(candidate, argv, envp)
        lastError = errno
        if lastError == EACCES { sawEACCES = true; continue }
        if lastError != ENOENT && lastError != ENOTDIR { break }
    }
    if sawEACCES && lastError != EACCES && (lastError == ENOENT || lastError == ENOTDIR) { lastError = EACCES }
    fail("execve '\(path)'", errno: lastError)
}

/// Gives the sandbox (the directory, and the `stdout`/`stderr` files the agent created in it) to a non-root task
/// user, so that the task can write its output and files there, as Mesos chowns the sandbox to the task's user.
func handOverSandbox(_ spec: InitSpec, to credentials: UserSpecResolver.Resolved, user: String) {
    let sandbox = spec.rootfs == nil ? spec.sandboxDirectory : spec.sandboxTarget
    for path in [sandbox, sandbox + "/stdout", sandbox + "/stderr"] {
        if lchown(path, credentials.uid, credentials.gid) != 0 && !(errno == ENOENT && path != sandbox) {
            fail("chown of the sandbox '\(path)' to user '\(user)'", errno: errno)
        }
    }
    // Read-write sandbox-path volumes: directories the agent made in the sandbox for the task.
    for mount in spec.mounts where mount.handedToTask && !mount.readOnly {
        if lchown(mount.target, credentials.uid, credentials.gid) != 0 {
            fail("chown of the volume '\(mount.target)' to user '\(user)'", errno: errno)
        }
    }
}

/// Resolves the task's user against the container's /etc/passwd and /etc/group (after pivot_root).
func resolveUser(_ user: String?) -> UserSpecResolver.Resolved {
    let passwd = readAll(path: "/etc/passwd") ?? ""
    let group = readAll(path: "/etc/group") ?? ""
    guard let user, !user.isEmpty else {
        // Root, as the agent's user: its passwd entry only names HOME and USER.
        let entry = try? UserSpecResolver.resolve("0", passwd: passwd, group: group).get()
        return UserSpecResolver.Resolved(uid: 0, gid: 0, groups: [0], name: entry?.name ?? "root", home: entry?.home ?? "/root")
    }
    switch UserSpecResolver.resolve(user, passwd: passwd, group: group) {
    case .success(let resolved): return resolved
    case .failure(.unknownUser(let name)): fail("resolve user: user '\(name)' is not in the container's /etc/passwd")
    case .failure(.unknownGroup(let name)): fail("resolve user: group '\(name)' is not in the container's /etc/group")
    }
}

func readAll(path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    return readAll(fd).map { String(decoding: $0, as: UTF8.self) }
}

/// Sets `lo` up in a fresh network namespace (SIOCSIFFLAGS on an AF_INET socket), so localhost works.
func bringUpLoopback() {
    let sock = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard sock >= 0 else { fail("socket for loopback set-up", errno: errno) }
    defer { close(sock) }
    var request = ifreq()
    withUnsafeMutableBytes(of: &request.ifr_ifrn.ifrn_name) { buffer in
        for (index, byte) in "lo".utf8.enumerated() { buffer[index] = byte }
    }
    request.ifr_ifru.ifru_flags = Int16(IFF_UP | IFF_LOOPBACK | IFF_RUNNING)
    if ioctl(sock, UInt(SIOCSIFFLAGS), &request) != 0 { fail("ioctl(SIOCSIFFLAGS) on lo", errno: errno) }
}

if CommandLine.arguments.count == 3 && CommandLine.arguments[1] == "--task-monitor" {
    taskMonitorMain(statusPath: CommandLine.arguments[2])
}
monitorMain()
