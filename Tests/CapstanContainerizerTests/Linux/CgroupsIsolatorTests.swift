import CapstanContainerizer
import CapstanCore
import CapstanTestSupport
import Foundation
import Glibc
import Testing

@Suite("CgroupsIsolators", .serialized, LinuxPrerequisites.trait)
struct CgroupsIsolatorTests {
    @Test func oomKillIsReportedAsMemoryLimitation() async throws {
        try await LinuxFixture.with { fx in
            let memory = try CgroupsMemoryIsolator()
            let containerizer = Containerizer(launcher: fx.launcher(), isolators: [memory], logger: quietLogger)
            // tail keeps the last "line" of /dev/zero in memory: it grows until the limit.
            let config = fx.config("tail /dev/zero", limits: ResourceLimits(memBytes: 32 << 20))
            try await containerizer.launch(config)
            let termination = try await within { try await containerizer.wait(config.containerID) }
            #expect(termination.limitation?.resource == .memory, "\(termination)")
            #expect(termination.limitation?.reason == .memory, "\(termination)")
            #expect(termination.message.hasPrefix("Memory limit exceeded: Requested: 32 MiB"), "\(termination.message)")
            #expect(!termination.killed)
            #expect(LinuxFixture.cgroups(of: config.containerID).isEmpty)
        }
    }

    @Test func forkBombStopsAtThePidsLimit() async throws {
        try await LinuxFixture.with { fx in
            let pids = try CgroupsPIDsIsolator()
            let containerizer = Containerizer(launcher: fx.launcher(), isolators: [pids], logger: quietLogger)
            let config = fx.config(
                "i=0; while [ $i -lt 64 ]; do (sleep 30 &) 2>/dev/null; i=$((i+1)); done; touch $MESOS_SANDBOX/ready; sleep 30",
                limits: ResourceLimits(maxProcesses: 16))
            try await containerizer.launch(config)
            try await fx.waitFor("ready", timeout: .seconds(20))
            let usage = try await containerizer.usage(config.containerID)
            #expect((usage.processes ?? 99) <= 16, "\(usage)")
            #expect(pids.refusedForks(config.containerID) > 0)
            let termination = try #require(await containerizer.destroy(config.containerID, gracePeriod: .zero))
            #expect(termination.killed)
            #expect(LinuxFixture.cgroups(of: config.containerID).isEmpty)
        }
    }

    @Test func cpuQuotaThrottlesABusyLoop() async throws {
        try await LinuxFixture.with { fx in
            let cpu = try CgroupsCPUIsolator()
            let containerizer = Containerizer(launcher: fx.launcher(), isolators: [cpu], logger: quietLogger)
            let config = fx.config("while :; do :; done", limits: ResourceLimits(cpus: 0.2))
            try await containerizer.launch(config)
            let cgroup = cpu.cgroupPath(of: config.containerID)
            #expect((try? String(contentsOfFile: cgroup + "/cpu.cfs_quota_us", encoding: .utf8)) == "20000\n")
            #expect((try? String(contentsOfFile: cgroup + "/cpu.shares", encoding: .utf8)) == "205\n")
            let before = cpu.cpuTime(config.containerID) ?? 0
            try await Task.sleep(for: .seconds(2))
            let used = (cpu.cpuTime(config.containerID) ?? 0) - before
            #expect(used > 0.2 && used < 0.5, "cpu time over 2 s at 0.2 cpus: \(used) s")
            let usage = try await containerizer.usage(config.containerID)
            #expect((usage.cpusUserTimeSecs ?? 0) + (usage.cpusSystemTimeSecs ?? 0) > 0)
            _ = await containerizer.destroy(config.containerID, gracePeriod: .zero)
            #expect(LinuxFixture.cgroups(of: config.containerID).isEmpty)
        }
    }

    /// PID 1 is forked before the isolators move anything (it builds the root meanwhile): it must still end up in
    /// every cgroup with the monitor, and the task must start inside them.
    @Test func monitorPID1AndTaskAreAllInTheContainersCgroups() async throws {
        try await LinuxFixture.with { fx in
            let isolators: [any Isolator] = [try CgroupsCPUIsolator(), try CgroupsMemoryIsolator(), try CgroupsPIDsIsolator(defaultMax: 64)]
            let containerizer = Containerizer(launcher: fx.launcher(), isolators: isolators, logger: quietLogger)
            let config = fx.config(
                "cat /proc/1/cgroup > $MESOS_SANDBOX/init-cgroup; cat /proc/$$/cgroup > $MESOS_SANDBOX/task-cgroup; "
                    + "touch $MESOS_SANDBOX/ready; exec sleep 30")
            try await containerizer.launch(config)
            try await fx.waitFor("ready")
            for hierarchy in ["cpu", "cpuacct", "memory", "pids"] {
                let procs = (try? String(contentsOfFile: "/sys/fs/cgroup/\(hierarchy)/capstan/\(config.containerID)/cgroup.procs", encoding: .utf8)) ?? ""
                #expect(procs.split(separator: "\n").count == 3, "monitor, PID 1 and the task in \(hierarchy): \(procs)")
            }
            for file in ["init-cgroup", "task-cgroup"] {
                let lines = fx.read(file).split(separator: "\n")
                for controller in ["cpu", "memory", "pids"] {
                    let line = lines.first { $0.split(separator: ":").dropFirst().first?.split(separator: ",").contains(Substring(controller)) == true }
                    #expect(line?.hasSuffix("/capstan/\(config.containerID)") == true, "\(file) \(controller): \(lines)")
                }
            }
            _ = await containerizer.destroy(config.containerID, gracePeriod: .zero)
            #expect(LinuxFixture.cgroups(of: config.containerID).isEmpty)
        }
    }

    @Test func allThreeIsolatorsTogetherLeaveNothingBehind() async throws {
        try await LinuxFixture.with { fx in
            let isolators: [any Isolator] = [try CgroupsCPUIsolator(), try CgroupsMemoryIsolator(), try CgroupsPIDsIsolator(defaultMax: 64)]
            let containerizer = Containerizer(launcher: fx.launcher(), isolators: isolators, logger: quietLogger)
            let config = fx.config("echo ok", limits: ResourceLimits(cpus: 0.5, memBytes: 64 << 20))
            try await containerizer.launch(config)
            let termination = try await within { try await containerizer.wait(config.containerID) }
            #expect(termination.exitStatus == 0)
            #expect(termination.limitation == nil)
            #expect(fx.read("stdout") == "ok\n")
            #expect(LinuxFixture.cgroups(of: config.containerID).isEmpty)
        }
    }
}
