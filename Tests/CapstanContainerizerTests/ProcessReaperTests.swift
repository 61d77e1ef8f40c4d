import Foundation
import Glibc
import Testing

@testable import CapstanContainerizer

@Suite("ProcessReaper")
struct ProcessReaperTests {
    /// Starts `/bin/sh -c script` as a child of the test process (posix_spawn: nothing else waits for it).
    static func spawn(_ script: String) throws -> Int32 {
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = ["/bin/sh", "-c", script].map { (text: String) in strdup(text) } + [nil]
        defer { argv.forEach { free($0) } }
        let result = posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ)
        guard result == 0 else { throw POSIXError(POSIXErrorCode(rawValue: result) ?? .EIO) }
        return pid
    }

    /// The threads of this process whose name starts with `prefix` (`/proc/self/task/*/comm`).
    static func threads(named prefix: String) -> Int {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.filter { task in
            (try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8))?.hasPrefix(prefix) == true
        }.count
    }

    @Test("Many processes waited for at once each get their own exit status or signal, and one reaper thread waits for all")
    func oneReaperWaitsForManyProcesses() async throws {
        let gate = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-reaper-\(UUID().uuidString.prefix(8))").path
        defer { unlink(gate) }
        let table = ProcessTable(sweepsSession: false)
        var expected: [Int32: ContainerTermination] = [:]
        for index in 0..<40 {
            let last = index % 8 == 7 ? "kill -TERM $$" : "exit \(index + 1)"
            let pid = try Self.spawn("while [ ! -e \(gate) ]; do sleep 0.05; done; \(last)")
            table.add(pid, ProcessTable.Record(origin: .child, path: "/bin/sh", held: nil))
            expected[pid] = index % 8 == 7 ? .signaled(SIGTERM) : .exited(Int32(index + 1))
        }
        let results = await withTaskGroup(of: (Int32, ContainerTermination).self) { group in
            for pid in expected.keys {
                group.addTask { (pid, await ProcessReaper.waitForChild(pid, table: table)) }
            }
            // Every wait is pending (the gate is shut): one reaper thread serves them all.
            try? await Task.sleep(for: .milliseconds(500))
            #expect(Self.threads(named: "capstan-reaper") == 1, "one reaper thread, not one per waited process")
            FileManager.default.createFile(atPath: gate, contents: nil)
            var results: [Int32: ContainerTermination] = [:]
            for await (pid, termination) in group { results[pid] = termination }
            return results
        }
        #expect(results == expected)
        #expect(Self.threads(named: "capstan-reaper") == 1)
        // Reaped: none of them is a zombie of ours any more.
        for pid in expected.keys { #expect(waitpid(pid, nil, WNOHANG) == -1 && errno == ECHILD) }
    }

    @Test("A child that exited before the wait began is reaped with its status; an adopted process that is gone settles at once")
    func exitedBeforeTheWait() async throws {
        let table = ProcessTable(sweepsSession: false)
        let pid = try Self.spawn("exit 42")
        table.add(pid, ProcessTable.Record(origin: .child, path: "/bin/sh", held: nil))
        // Wait (without reaping) until it is a zombie.
        var info = siginfo_t()
        #expect(waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) == 0)
        #expect(await ProcessReaper.waitForChild(pid, table: table) == .exited(42))

        let gone = try Self.spawn("exit 0")
        var status: Int32 = 0
        _ = waitpid(gone, &status, 0)
        table.add(gone, ProcessTable.Record(origin: .adopted, path: "/bin/sh", held: nil))
        let adopted = await ProcessReaper.waitForAdopted(gone, startTicks: nil, table: table)
        #expect(adopted.exitStatus == nil && adopted.signal == nil && adopted.message.contains("unknown status"), "\(adopted)")
    }
}
