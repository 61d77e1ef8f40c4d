public import CapstanCore
import Glibc

extension Containerizer {
    /// The host pid of a process inside every namespace of running container `id` (for entering them): its PID 1
    /// when it has namespaces of its own, its first process otherwise. `nil` when the container is not running.
    public func namespaces(of id: ContainerID) async -> Int32? {
        guard let container = live[id], container.phase == .running, let process = container.process else { return nil }
        return await launcher(for: container.config).namespaceProcess(of: process)
    }

    /// `command` as a host process must run it to run inside running container `id` (a health check, for one).
    ///
    /// A container with a root filesystem is entered with util-linux's `nsenter` (the agent itself never calls
    /// `setns`): its mount, UTS, IPC, network and PID namespaces, its root, and the working directory and user of its
    /// task; a shell command runs under the container's `/bin/sh`. A container without one shares the host's
    /// filesystem, so the command is returned as it is. The environment is the command's.
    /// - Throws: `notFound` when the container is not running; `failedPrecondition` without `nsenter`.
    public func commandInside(_ id: ContainerID, _ command: CommandSpec) async throws -> CommandSpec {
        guard let config = live[id]?.config else {
            throw CapstanError(.notFound, "Failed to enter container '\(id)': it is not running")
        }
        guard config.rootfs != nil else { return command }
        guard let pid1 = await namespaces(of: id) else {
            throw CapstanError(.notFound, "Failed to enter container '\(id)': it has no running init process")
        }
        guard let nsenter = Self.nsenterCandidates.first(where: { access($0, X_OK) == 0 }) else {
            throw CapstanError(
                .failedPrecondition, "Failed to enter container '\(id)': nsenter (util-linux) is not at \(Self.nsenterCandidates.joined(separator: " or "))")
        }
        // The task (PID 1's child) has the working directory and the user the command should have; PID 1 otherwise.
        let target = ProcessTree.firstChild(of: pid1) ?? pid1
        var argv = [nsenter, "--target", "\(target)", "--mount", "--uts", "--ipc", "--net", "--pid", "--root", "--wd"]
        if let (uid, gid) = ProcessTree.credentials(of: target), uid != 0 || gid != 0 {
            argv += ["--setgid", "\(gid)", "--setuid", "\(uid)"]
        }
        argv.append("--")
        if command.shell {
            guard let value = command.value else {
                throw CapstanError(.invalidArgument, "Failed to enter container '\(id)': a shell command needs a value")
            }
            argv += ["/bin/sh", "-c", value]
        } else {
            guard let program = command.value ?? command.arguments.first, !program.isEmpty else {
                throw CapstanError(.invalidArgument, "Failed to enter container '\(id)': the command names no program to execute")
            }
            argv += [program] + command.arguments.dropFirst()
        }
        return CommandSpec(shell: false, value: nsenter, arguments: argv, environment: command.environment)
    }

    /// Where `nsenter` is looked for on the host.
    static let nsenterCandidates = ["/usr/bin/nsenter", "/bin/nsenter", "/usr/sbin/nsenter", "/sbin/nsenter"]
}
