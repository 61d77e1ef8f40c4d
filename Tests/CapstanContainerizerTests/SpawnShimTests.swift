import CLinux
import Foundation
import Glibc
import Testing

/// The C entry point `capstan_spawn` on its own, as other launchers (capstan-init) will use it.
@Suite("capstan_spawn")
struct SpawnShimTests {
    /// Calls `capstan_spawn` with `/dev/null` stdio in a new session; returns the errno and pid.
    private func spawn(_ path: String, _ arguments: [String], cwd: String? = nil) -> (Int32, Int32) {
        var argv = arguments.map { strdup($0) } + [nil]
        var envp: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/bin:/bin"), nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: Int32 = 0
        let rc = capstan_spawn(path, &argv, &envp, cwd, -1, -1, -1, 1, -1, -1, &pid)
        return (rc, pid)
    }

    /// Calls `capstan_spawn_ex` in hold mode with `/dev/null` stdio: the child waits at its barrier for the release.
    private func spawnHeld(_ path: String, _ arguments: [String]) -> (Int32, capstan_spawn_result) {
        let argv = arguments.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = [nil]
        defer { argv.forEach { free($0) } }
        var request = capstan_spawn_request()
        request.path = UnsafePointer(strdup(path))
        defer { free(UnsafeMutablePointer(mutating: request.path)) }
        request.stdin_fd = -1
        request.stdout_fd = -1
        request.stderr_fd = -1
        request.uid = -1
        request.gid = -1
        request.hold = 1
        var result = capstan_spawn_result()
        let rc = argv.withUnsafeBufferPointer { a in
            envp.withUnsafeBufferPointer { e in
                request.argv = a.baseAddress
                request.envp = e.baseAddress
                return capstan_spawn_ex(&request, &result)
            }
        }
        return (rc, result)
    }

    @Test func spawnsInANewSessionAndReportsTheExitStatus() throws {
        let (rc, pid) = spawn("sh", ["sh", "-c", "test $(cut -d' ' -f6 /proc/$$/stat) = $$ && exit 5"], cwd: "/")
        #expect(rc == 0 && pid > 0)
        var code: Int32 = -1
        var signal: Int32 = -1
        #expect(capstan_reap(pid, &code, &signal) == 0)
        #expect(code == 5 && signal == -1)
    }

    @Test func returnsTheErrnoOfAFailedExecveAndReapsTheChild() {
        let (rc, pid) = spawn("/nope/missing", ["missing"])
        #expect(rc == ENOENT && pid == -1)
        let (chdirRC, _) = spawn("/bin/true", ["true"], cwd: "/nonexistent-dir")
        #expect(chdirRC == ENOENT)
    }

    @Test func releaseOfAHeldChildReportsExecveFailures() throws {
        let (rc, result) = spawnHeld("/nope/held", ["x"])
        #expect(rc == 0 && result.pid > 0 && result.sync_fd >= 0)
        var stage: Int32 = 0
        #expect(capstan_spawn_release(result.sync_fd, &stage) == ENOENT)
        #expect(UInt32(stage) == CAPSTAN_SPAWN_STAGE_EXECVE.rawValue)
        var code: Int32 = -1
        var signal: Int32 = -1
        #expect(capstan_reap(result.pid, &code, &signal) == 0 && code == 127)
    }

    /// A child held at its barrier has closed every descriptor it was not given: a pipe the parent reads to EOF does
    /// not stay open until the child is released (two cooperative threads reading command output to EOF, while the
    /// children that held the pipes waited for those threads to release them, hung the whole test run).
    @Test func aHeldChildKeepsNoOtherDescriptorOpen() throws {
        var pipeFDs: [Int32] = [-1, -1]
        #expect(pipe(&pipeFDs) == 0)
        for fd in pipeFDs { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        defer { close(pipeFDs[0]) }
        let (rc, result) = spawnHeld("/bin/true", ["true"])
        #expect(rc == 0 && result.pid > 0 && result.sync_fd >= 0)
        // Ours is the only write end left once the held child has closed its copy: EOF at once.
        close(pipeFDs[1])
        var poller = pollfd(fd: pipeFDs[0], events: Int16(POLLIN), revents: 0)
        #expect(poll(&poller, 1, 5_000) == 1, "the held child still holds the pipe's write end")
        var byte: UInt8 = 0
        #expect(read(pipeFDs[0], &byte, 1) == 0)
        var stage: Int32 = 0
        #expect(capstan_spawn_release(result.sync_fd, &stage) == 0)
        var code: Int32 = -1
        var signal: Int32 = -1
        #expect(capstan_reap(result.pid, &code, &signal) == 0 && code == 0)
    }
}
