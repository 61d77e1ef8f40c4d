import CapstanContainerizer
import CapstanCore
import CapstanTestSupport
import Foundation
import Glibc
import Testing

@Suite("DiskUsageIsolator")
struct DiskUsageIsolatorTests {
    static func isolator(interval: Duration = .milliseconds(50), enforce: Bool = false, writableLayer: String? = nil) -> DiskUsageIsolator {
        DiskUsageIsolator(
            options: .init(interval: interval, enforce: enforce), writableLayer: { _ in writableLayer }, logger: quietLogger)
    }

    @Test("The next measurement waits the interval, or backoffFactor times the last measurement when that is longer")
    func backoffIsProportionalToTheMeasurement() {
        let options = DiskUsageIsolator.Options(interval: .seconds(15), backoffFactor: 10)
        #expect(DiskUsageIsolator.nextWait(after: .milliseconds(100), options: options) == .seconds(15))
        #expect(DiskUsageIsolator.nextWait(after: .seconds(3), options: options) == .seconds(30))
        #expect(DiskUsageIsolator.nextWait(after: .zero, options: .init(interval: .milliseconds(200))) == .milliseconds(200))
    }

    @Test("Usage reports the sandbox and the writable layer together, as du counts them, against the disk limit")
    func usageCountsSandboxAndWritableLayer() async throws {
        try await Sandbox.with { sandbox in
            let upper = sandbox.path + "-upper"
            try FileManager.default.createDirectory(atPath: upper, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: upper) }
            try Data(repeating: 1, count: 1 << 20).write(to: URL(fileURLWithPath: sandbox.path + "/out"))
            try Data(repeating: 2, count: 2 << 20).write(to: URL(fileURLWithPath: upper + "/written-to-root"))
            let isolator = Self.isolator(writableLayer: upper)
            var config = sandbox.config("true")
            config.limits.diskBytes = 64 << 20
            let id = config.containerID
            #expect(try await isolator.usage(id) == nil, "unknown before prepare")
            _ = try await isolator.prepare(config)
            let before = try #require(try await isolator.usage(id))
            #expect(before.diskUsedBytes == nil && before.diskLimitBytes == 64 << 20, "the limit before the first measurement")
            let watch = Task { await isolator.watch(id) }
            defer { watch.cancel() }
            let expected = try DiskUsageWalkerTests.du([sandbox.path, upper])
            var measured: UInt64?
            let matched = await eventually(timeout: .seconds(30)) {
                measured = (try? await isolator.usage(id))?.diskUsedBytes
                return measured == expected
            }
            #expect(matched, "measured \(measured.map(String.init) ?? "nothing") bytes, du counts \(expected)")
            #expect(expected > 3 << 20)
            try await isolator.update(id, limits: ResourceLimits(diskBytes: 1 << 30))
            #expect(try await isolator.usage(id)?.diskLimitBytes == 1 << 30)
            watch.cancel()
            #expect(try await within(.seconds(10)) { await watch.value } == nil, "a cancelled watch returns at once")
            try await isolator.cleanup(id)
            #expect(try await isolator.usage(id) == nil)
            try await isolator.cleanup(id)  // idempotent
        }
    }

    @Test("Without enforcement a container past its disk limit keeps running and its usage shows the excess")
    func excessIsOnlyReportedWithoutEnforcement() async throws {
        try await Sandbox.with { sandbox in
            let isolator = Self.isolator(enforce: false)
            let containerizer = makeContainerizer(isolators: [isolator])
            var config = sandbox.config("head -c 3145728 /dev/zero > big && touch written && exec sleep 600")
            config.limits.diskBytes = 1 << 20
            try await containerizer.launch(config)
            try await sandbox.waitFor("written")
            #expect(await eventually(timeout: .seconds(20)) {
                ((try? await containerizer.usage(config.containerID))?.diskUsedBytes ?? 0) > 3 << 20
            })
            let usage = try await containerizer.usage(config.containerID)
            #expect(usage.diskLimitBytes == 1 << 20)
            #expect(await containerizer.containers() == [config.containerID], "still running")
            let id = config.containerID
            _ = await containerizer.destroy(id, gracePeriod: .zero)
            #expect(try await within { try await containerizer.wait(id) }.limitation == nil)
        }
    }

    @Test("With enforcement a container that writes past its disk limit is killed with the disk limitation")
    func enforcementKillsPastTheLimit() async throws {
        try await Sandbox.with { sandbox in
            let isolator = Self.isolator(enforce: true)
            let containerizer = makeContainerizer(isolators: [isolator])
            var config = sandbox.config("head -c 3145728 /dev/zero > big && exec sleep 600")
            config.limits.diskBytes = 1 << 20
            try await containerizer.launch(config)
            let id = config.containerID
            let termination = try await within { try await containerizer.wait(id) }
            let limitation = try #require(termination.limitation, "\(termination)")
            #expect(limitation.resource == .disk && limitation.reason == .disk)
            #expect(limitation.message.hasPrefix("Disk usage ("), "\(limitation.message)")
            #expect(limitation.message.contains("exceeds quota (1.0 MiB, 1048576 bytes)"), "\(limitation.message)")
            #expect(termination.signal == SIGKILL, "\(termination)")
        }
    }

    @Test("A container under its limit is never killed, and one with no disk limit is only measured")
    func underTheLimitOrUnlimitedRuns() async throws {
        try await Sandbox.with { sandbox in
            let isolator = Self.isolator(enforce: true)
            let containerizer = makeContainerizer(isolators: [isolator])
            var limited = sandbox.config("head -c 100000 /dev/zero > small && exec sleep 600")
            limited.limits.diskBytes = 32 << 20
            let unlimited = sandbox.config("exec sleep 600")
            try await containerizer.launch(limited)
            try await containerizer.launch(unlimited)
            #expect(await eventually(timeout: .seconds(20)) {
                let unlimitedUsed = (try? await containerizer.usage(unlimited.containerID))?.diskUsedBytes ?? 0
                let limitedUsed = (try? await containerizer.usage(limited.containerID))?.diskUsedBytes ?? 0
                return unlimitedUsed > 0 && limitedUsed > 100_000
            })
            try await Task.sleep(for: .milliseconds(300))  // several more measurements
            let running = Set(await containerizer.containers())
            #expect(running == [limited.containerID, unlimited.containerID])
            #expect(try await containerizer.usage(unlimited.containerID).diskLimitBytes == nil)
            for id in [limited.containerID, unlimited.containerID] { _ = await containerizer.destroy(id, gracePeriod: .zero) }
        }
    }

    @Test("Recovery measures the containers still running, with their checkpointed limit, and forgets the gone ones")
    func recoveryKeepsRunningContainers() async throws {
        try await Sandbox.with { sandbox in
            let isolator = Self.isolator()
            var running = sandbox.config("sleep 600")
            running.limits.diskBytes = 5 << 20
            let gone = sandbox.config("true")
            try await isolator.recover([
                ContainerRecoveryState(containerID: running.containerID, pid: getpid(), config: running),
                ContainerRecoveryState(containerID: gone.containerID, pid: nil, config: gone),
            ])
            #expect(try await isolator.usage(running.containerID)?.diskLimitBytes == 5 << 20)
            #expect(try await isolator.usage(gone.containerID) == nil)
            let runningID = running.containerID
            let watch = Task { await isolator.watch(runningID) }
            #expect(await eventually(timeout: .seconds(30)) { (try? await isolator.usage(runningID))?.diskUsedBytes != nil })
            watch.cancel()
            _ = await watch.value
        }
    }

    @Test("Measurements run on a thread of their own at the idle I/O class and nice 19")
    func measuringThreadRunsAtLowPriority() async throws {
        try await Sandbox.with { sandbox in
            let measurer = DiskUsageMeasurer()
            let measured = try await measurer.measure([sandbox.path])
            #expect(measured.usage.entries >= 1)
            let priority = try #require(measurer.threadPriority)
            #expect(priority.ioClass == CAPSTAN_IOPRIO_CLASS_IDLE_VALUE, "\(priority)")
            #expect(priority.nice == 19, "\(priority)")
            #expect(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) != 19, "the calling thread's own priority is untouched")
        }
    }
}

/// `IOPRIO_CLASS_IDLE` (linux/ioprio.h).
let CAPSTAN_IOPRIO_CLASS_IDLE_VALUE: Int32 = 3
