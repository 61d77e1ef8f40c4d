import CapstanLinux
import CLinux
import CapstanCore
import Glibc

/// A process to start through `capstan_spawn_ex`, described in Swift values.
struct SpawnRequest: Sendable {
    /// Program; searched in `PATH` of `environment` when it has no `/`.
    var path: String
    /// Complete argument vector.
    var arguments: [String]
    /// `NAME=value` strings.
    var environment: [String]
    /// Working directory, entered after the user switch.
    var workingDirectory: String?
    /// fds 0, 1, 2 of the child; -1 is `/dev/null`.
    var stdio: (Int32, Int32, Int32) = (-1, -1, -1)
    /// fds 3, 4, … of the child.
    var extraFDs: [Int32] = []
    /// Start a new session (and process group) led by the child.
    var newSession = true
    /// User to become, or `nil` to keep the agent's.
    var user: UserAccount?
    /// Stop the child before execve until ``Spawner/release(_:)``.
    var hold = false
    /// A program the child becomes once it has forked the task (`monitor_path` of the C shim): it stays the
    /// task's parent, and the returned pid is its. Needs ``newSession``.
    var monitor: (path: String, arguments: [String])?
}

/// A child stopped before execve, with the parent's end of its sync socket.
struct HeldChild: Sendable {
    var pid: Int32
    var syncFD: Int32
    /// What the task does after the barrier in monitor mode (user switch, chdir), for error messages.
    var workingDirectory: String? = nil
    var user: UserAccount? = nil
}

/// Calls the C spawn shim. These calls block (fork, then the child's set-up), so callers run them on a ``DedicatedThread``.
enum Spawner {
    /// Starts `request`; returns the child's pid and, in hold mode, its sync fd.
    /// - Throws: ``CapstanError`` `Failed to launch: <step>: <errno text> (errno <n>)`.
    static func spawn(_ request: SpawnRequest) throws -> HeldChild {
        try validate(request)
        let argv = CStringArray(request.arguments)
        let envp = CStringArray(request.environment)
        defer {
            argv.free()
            envp.free()
        }
        let monitorArgv = request.monitor.map { CStringArray($0.arguments) }
        defer { monitorArgv?.free() }
        let groups: [gid_t] = request.user?.groups ?? []
        var result = capstan_spawn_result()
        let rc: Int32 = request.path.withCString { path in
            withOptionalCString(request.workingDirectory) { cwd in
              withOptionalCString(request.monitor?.path) { monitorPath in
                request.extraFDs.withUnsafeBufferPointer { extra in
                    groups.withUnsafeBufferPointer { groupBuffer in
                        var req = capstan_spawn_request()
                        req.monitor_path = monitorPath
                        req.monitor_argv = monitorArgv?.pointer
                        req.path = path
                        req.argv = argv.pointer
                        req.envp = envp.pointer
                        req.cwd = cwd
                        req.stdin_fd = request.stdio.0
                        req.stdout_fd = request.stdio.1
                        req.stderr_fd = request.stdio.2
                        req.extra_fds = extra.baseAddress
                        req.n_extra_fds = Int32(extra.count)
                        req.new_session = request.newSession ? 1 : 0
                        req.uid = request.user.map { Int32(bitPattern: $0.uid) } ?? -1
                        req.gid = request.user.map { Int32(bitPattern: $0.gid) } ?? -1
                        req.groups = groupBuffer.baseAddress
                        req.n_groups = Int32(groupBuffer.count)
                        req.search_path = nil
                        req.hold = request.hold ? 1 : 0
                        return capstan_spawn_ex(&req, &result)
                    }
                }
              }
            }
        }
        if rc != 0 {
            throw CapstanError.system("Failed to launch: \(step(result.stage, request))", errno: rc)
        }
        return HeldChild(pid: result.pid, syncFD: result.sync_fd, workingDirectory: request.workingDirectory, user: request.user)
    }

    /// Lets a held child execve; closes its sync fd.
    /// - Throws: ``CapstanError`` naming the step (normally `execve '<path>'`) and the errno.
    static func release(_ child: HeldChild, path: String) throws {
        var stage: Int32 = 0
        let rc = capstan_spawn_release(child.syncFD, &stage)
        if rc != 0 {
            throw CapstanError.system(
                "Failed to launch: \(step(stage, path: path, cwd: child.workingDirectory, user: child.user))", errno: rc)
        }
    }

    private static func step(_ stage: Int32, _ request: SpawnRequest) -> String {
        step(stage, path: request.path, cwd: request.workingDirectory, user: request.user)
    }

    /// The step of a spawn stage, as it appears in error messages.
    static func step(_ stage: Int32, path: String, cwd: String?, user: UserAccount?) -> String {
        switch UInt32(bitPattern: stage) {
        case CAPSTAN_SPAWN_STAGE_SOCKETPAIR.rawValue: "socketpair"
        case CAPSTAN_SPAWN_STAGE_FORK.rawValue: "fork"
        case CAPSTAN_SPAWN_STAGE_SETSID.rawValue: "setsid"
        case CAPSTAN_SPAWN_STAGE_FDS.rawValue: "dup2 of the stdio fds"
        case CAPSTAN_SPAWN_STAGE_SETGROUPS.rawValue: "setgroups for user '\(user?.name ?? "?")'"
        case CAPSTAN_SPAWN_STAGE_SETGID.rawValue: "setgid \(user.map { String($0.gid) } ?? "?")"
        case CAPSTAN_SPAWN_STAGE_SETUID.rawValue: "setuid \(user.map { String($0.uid) } ?? "?")"
        case CAPSTAN_SPAWN_STAGE_CHDIR.rawValue:
            "chdir '\(cwd ?? "?")'\(user.map { " as user '\($0.name)' (every directory above it must be searchable by that user)" } ?? "")"
        case CAPSTAN_SPAWN_STAGE_BARRIER.rawValue: "release of the child held before execve"
        case CAPSTAN_SPAWN_STAGE_EXECVE.rawValue: "execve '\(path)'"
        case CAPSTAN_SPAWN_STAGE_MONITOR.rawValue: "execve of the task's monitor (capstan-init)"
        default: "read of the spawn sync socket"
        }
    }

    /// Rejects strings the C side would silently cut at a NUL, and malformed environment entries.
    private static func validate(_ request: SpawnRequest) throws {
        if request.path.contains("\0") || request.arguments.contains(where: { $0.contains("\0") }) {
            throw CapstanError(.invalidArgument, "Failed to launch: the command contains a NUL character")
        }
        if let monitor = request.monitor, monitor.arguments.isEmpty || !request.newSession {
            throw CapstanError(.invalidArgument, "Failed to launch: a task monitor needs an argument vector and a session of its own")
        }
        if request.arguments.isEmpty {
            throw CapstanError(.invalidArgument, "Failed to launch: the argument vector is empty")
        }
        for entry in request.environment {
            guard let eq = entry.firstIndex(of: "="), eq != entry.startIndex, !entry.contains("\0") else {
                throw CapstanError(.invalidArgument, "Failed to launch: environment entry '\(entry)' is not NAME=value")
            }
        }
    }
}

/// A NULL-terminated `char *[]` of `strdup`ed strings; call `free()` once.
private struct CStringArray {
    let storage: UnsafeMutableBufferPointer<UnsafeMutablePointer<CChar>?>

    init(_ strings: [String]) {
        storage = .allocate(capacity: strings.count + 1)
        for (index, string) in strings.enumerated() { storage[index] = strdup(string) }
        storage[strings.count] = nil
    }

    var pointer: UnsafePointer<UnsafeMutablePointer<CChar>?> { UnsafePointer(storage.baseAddress!) }

    func free() {
        for pointer in storage { Glibc.free(pointer) }
        storage.deallocate()
    }
}

private func withOptionalCString<R>(_ string: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
    guard let string else { return body(nil) }
    return string.withCString { body($0) }
}
