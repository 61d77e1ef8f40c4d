import CapstanContainerizer
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

@Suite("DockerVolumeMounts")
struct DockerVolumeMountsTests {
    static let quickRetry = DockerPluginRetry(window: .seconds(20), firstDelay: .milliseconds(50), maxDelay: .milliseconds(400))

    /// A plugin called `vol` at `<root>/run/docker/plugins/vol.sock`, and a mount table journalled under the scratch root.
    private func withPlugin(
        _ body: (PluginScratch, TestVolumePlugin, () -> DockerVolumeMounts) async throws -> Void
    ) async throws {
        try await PluginScratch.with { scratch in
            let plugin = try TestVolumePlugin(address: scratch.sockets + "/vol.sock", state: scratch.state("vol"), journal: scratch.journal)
            defer { plugin.stop() }
            try await body(scratch, plugin) { Self.mounts(scratch) }
        }
    }

    /// A fresh actor on the scratch journal: what an agent builds at start.
    static func mounts(_ scratch: PluginScratch, retry: DockerPluginRetry = quickRetry, callTimeout: Duration = .seconds(30))
        -> DockerVolumeMounts
    {
        DockerVolumeMounts(
            journalDirectory: scratch.journal,
            plugins: DockerVolumePlugins(directories: scratch.directories, retry: retry, callTimeout: callTimeout))
    }

    @Test(TestVolumePlugin.requirement)
    func firstClaimActivatesCreatesAndMountsAndTheLastReleaseUnmounts() async throws {
        try await withPlugin { scratch, plugin, make in
            let mounts = make()
            let mountpoint = try await mounts.claim(containerID: "c1", driver: "vol", name: "data", options: ["size": "1G"])
            #expect(mountpoint == scratch.state("vol") + "/mnt/data")
            var isDirectory: ObjCBool = false
            #expect(FileManager.default.fileExists(atPath: mountpoint, isDirectory: &isDirectory) && isDirectory.boolValue)
            #expect(plugin.callNames() == ["Plugin.Activate", "VolumeDriver.Get", "VolumeDriver.Create", "VolumeDriver.Mount"])
            let calls = plugin.calls()
            #expect(calls[2].body == ["Name": "data", "Opts": #"{"size":"1G"}"#])
            let mountID = try #require(calls[3].body["ID"])
            #expect(mountID.hasPrefix("capstan-"))
            #expect(calls.allSatisfy { $0.accept == "application/vnd.docker.plugins.v1+json" && $0.host == "localhost" })
            // The mount is journalled before any plugin call that depends on it.
            #expect(calls.allSatisfy { $0.journal == ["\(mountID) mounting c1"] }, "\(calls.map(\.journal))")

            let journalled = await mounts.mounts()
            #expect(journalled.count == 1)
            #expect(
                journalled.first?.state == .mounted && journalled.first?.claimants == ["c1"] && journalled.first?.mountpoint == mountpoint)

            await mounts.release(containerID: "c1")
            #expect(plugin.callNames().count == 5)
            let unmount = try #require(plugin.calls().last)
            #expect(unmount.call == "VolumeDriver.Unmount" && unmount.body == ["Name": "data", "ID": mountID])
            // The end of the mount is journalled before the Unmount, and the record goes after it.
            #expect(unmount.journal == ["\(mountID) unmounting "])
            #expect(plugin.mounts() == ["data": []])
            #expect(await mounts.mounts().isEmpty)
            #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.journal).isEmpty)
        }
    }

    @Test(TestVolumePlugin.requirement)
    func twoContainersShareOneMountUntilBothRelease() async throws {
        try await withPlugin { _, plugin, make in
            let mounts = make()
            let first = try await mounts.claim(containerID: "c1", driver: "vol", name: "shared")
            let second = try await mounts.claim(containerID: "c2", driver: "vol", name: "shared")
            #expect(first == second)
            #expect(plugin.count("VolumeDriver.Mount") == 1)
            #expect(plugin.count("Plugin.Activate") == 1)
            #expect(await mounts.mounts().map(\.claimants) == [["c1", "c2"]])

            await mounts.release(containerID: "c1")
            #expect(plugin.count("VolumeDriver.Unmount") == 0)
            #expect(await mounts.mounts().map(\.claimants) == [["c2"]])
            await mounts.release(containerID: "c2")
            #expect(plugin.count("VolumeDriver.Unmount") == 1)
            #expect(plugin.mounts() == ["shared": []])
            #expect(plugin.calls().last?.journal.first?.hasSuffix(" unmounting ") == true)
        }
    }

    @Test(TestVolumePlugin.requirement)
    func concurrentFirstClaimsMountOnce() async throws {
        try await withPlugin { _, plugin, make in
            let mounts = make()
            let paths = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<6 {
                    group.addTask { try await mounts.claim(containerID: ContainerID("c\(index)"), driver: "vol", name: "busy") }
                }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(paths.count == 1)
            #expect(plugin.count("Plugin.Activate") == 1)
            #expect(plugin.count("VolumeDriver.Mount") == 1)
            #expect(await mounts.mounts().first?.claimants.count == 6)
        }
    }

    @Test(TestVolumePlugin.requirement)
    func recoverReleasesOnlyTheDeadClaimantAndTheSurvivorsReleaseUnmountsOnce() async throws {
        try await withPlugin { _, plugin, make in
            do {
                let before = make()
                _ = try await before.claim(containerID: "alive", driver: "vol", name: "kept")
                _ = try await before.claim(containerID: "dead", driver: "vol", name: "kept")
            }
            // The agent restarts: a new actor from the journal; "dead" ended while the agent was down.
            let after = make()
            await after.recover(liveContainers: ["alive", "unrelated"])
            let table = await after.mounts()
            #expect(table.map(\.claimants) == [["alive"]])
            #expect(plugin.count("VolumeDriver.Unmount") == 0)
            #expect(plugin.count("VolumeDriver.Mount") == 1)

            // A second recover (another restart) releases nothing more.
            await make().recover(liveContainers: ["alive"])
            let again = make()
            await again.recover(liveContainers: ["alive"])
            #expect(await again.mounts().map(\.claimants) == [["alive"]])
            #expect(plugin.count("VolumeDriver.Unmount") == 0)

            await again.release(containerID: "alive")
            #expect(plugin.count("VolumeDriver.Unmount") == 1)
            #expect(plugin.mounts() == ["kept": []])
        }
    }

    @Test(TestVolumePlugin.requirement)
    func aCrashKeepsTheClaimsOfLiveContainersWithoutCallingThePlugin() async throws {
        try await withPlugin { scratch, plugin, make in
            var mountpoint = ""
            do {
                let crashed = make()
                mountpoint = try await crashed.claim(containerID: "c1", driver: "vol", name: "survives")
                _ = try await crashed.claim(containerID: "c2", driver: "vol", name: "survives")
            }
            let callsBefore = plugin.callNames()
            let rebuilt = make()
            await rebuilt.recover(liveContainers: ["c1", "c2"])
            #expect(plugin.callNames() == callsBefore)
            #expect(await rebuilt.mounts().map(\.claimants) == [["c1", "c2"]])
            // A container of the rebuilt agent gets the same mount.
            #expect(try await rebuilt.claim(containerID: "c3", driver: "vol", name: "survives") == mountpoint)
            #expect(plugin.count("VolumeDriver.Mount") == 1)
            for id in ["c1", "c2", "c3"] { await rebuilt.release(containerID: ContainerID(id)) }
            #expect(plugin.count("VolumeDriver.Unmount") == 1)
            #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.journal).isEmpty)
        }
    }

    @Test(TestVolumePlugin.requirement)
    func recoverRollsBackAMountInterruptedByACrashAndResendsAnInterruptedUnmount() async throws {
        try await withPlugin { scratch, plugin, make in
            // Journals as a crash leaves them: one written before a Mount whose answer was never journalled, one
            // written before an Unmount that may not have happened.
            let mounting = DockerVolumeMountRecord(
                driver: try DockerPluginName("vol"), volume: try DockerVolumeName("half"), options: [:], mountID: "capstan-aaaa",
                state: .mounting,
                mountpoint: nil, claimants: ["c1"])
            let unmounting = DockerVolumeMountRecord(
                driver: try DockerPluginName("vol"), volume: try DockerVolumeName("leaving"), options: [:], mountID: "capstan-bbbb",
                state: .unmounting,
                mountpoint: "/somewhere", claimants: [])
            try FileManager.default.createDirectory(atPath: scratch.journal, withIntermediateDirectories: true)
            for record in [mounting, unmounting] {
                try JSONEncoder().encode(record).write(to: URL(fileURLWithPath: scratch.journal + "/\(record.mountID).json"))
            }
            let mounts = make()
            await mounts.recover(liveContainers: ["c1"])
            let unmounts = plugin.calls().filter { $0.call == "VolumeDriver.Unmount" }.map { $0.body["ID"] ?? "" }
            #expect(unmounts.sorted() == ["capstan-aaaa", "capstan-bbbb"])
            #expect(await mounts.mounts().isEmpty)
            #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.journal).isEmpty)
        }
    }

    @Test(TestVolumePlugin.requirement)
    func aPluginErrReachesTheCallerVerbatimAndLeavesNoClaim() async throws {
        try await withPlugin { scratch, plugin, make in
            let text = "rbd: image pool/data is locked by client.4211 (EBUSY) — try again \"later\""
            try plugin.control(["VolumeDriver.Mount": ["err": text, "status": 500]])
            let mounts = make()
            let error = try await #require(throws: DockerVolumePluginError.self) {
                try await mounts.claim(containerID: "c1", driver: "vol", name: "locked")
            }
            #expect(error.err == text)
            #expect(error.plugin.value == "vol" && error.call == "VolumeDriver.Mount" && error.volume == "locked")
            #expect(error.description == "Docker volume plugin 'vol' failed VolumeDriver.Mount of volume 'locked': \(text)")
            #expect(plugin.count("VolumeDriver.Mount") == 1)
            #expect(plugin.count("VolumeDriver.Unmount") == 0)
            #expect(await mounts.mounts().isEmpty)
            #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.journal).isEmpty)

            // The plugin recovers; the next claim mounts.
            try plugin.control([:])
            _ = try await mounts.claim(containerID: "c1", driver: "vol", name: "locked")
            #expect(plugin.count("VolumeDriver.Mount") == 2)
        }
    }

    @Test(TestVolumePlugin.requirement)
    func aCreateErrWithStatus200IsAnErrorToo() async throws {
        try await withPlugin { _, plugin, make in
            try plugin.control(["VolumeDriver.Create": ["err": "quota exceeded for tenant 7"]])
            let error = try await #require(throws: DockerVolumePluginError.self) {
                try await make().claim(containerID: "c1", driver: "vol", name: "big", options: ["size": "1T"])
            }
            #expect(error.call == "VolumeDriver.Create" && error.err == "quota exceeded for tenant 7")
            #expect(plugin.count("VolumeDriver.Mount") == 0)
        }
    }

    @Test(TestVolumePlugin.requirement)
    func refusesAMountpointThatIsNotAnAbsoluteExistingDirectoryAndUnmountsIt() async throws {
        try await withPlugin { scratch, plugin, make in
            let mounts = make()
            let file = scratch.root + "/a-file"
            try scratch.write("x", to: file)
            for (mountpoint, words) in [
                ("relative/dir", "not an absolute path"), (scratch.root + "/missing", "cannot be resolved"), (file, "not a directory"),
                (scratch.root + "/../tmp", "'..'"), ("/", "root directory"),
            ] {
                try plugin.control(["VolumeDriver.Mount": ["mountpoint": mountpoint]])
                let error = try await #require(throws: CapstanError.self) {
                    try await mounts.claim(containerID: "c1", driver: "vol", name: "odd")
                }
                #expect(error.message.contains(words), "\(mountpoint): \(error)")
            }
            let mountIDs = plugin.calls().filter { $0.call == "VolumeDriver.Mount" }.map { $0.body["ID"] }
            let unmountIDs = plugin.calls().filter { $0.call == "VolumeDriver.Unmount" }.map { $0.body["ID"] }
            #expect(mountIDs.count == 5 && unmountIDs == mountIDs)
            #expect(await mounts.mounts().isEmpty)
        }
    }

    @Test(TestVolumePlugin.requirement)
    func reachesAPluginThatComesUpWithinTheRetryWindow() async throws {
        try await PluginScratch.with { scratch in
            // Its socket exists at once but refuses connections for a second, then it listens.
            let refusing = try TestVolumePlugin(
                address: scratch.sockets + "/late.sock", state: scratch.state("late"), listenDelay: 1, waitUntilReady: false)
            defer { refusing.stop() }
            // Its socket appears only after a second.
            let absent = try TestVolumePlugin(
                address: scratch.sockets + "/absent.sock", state: scratch.state("absent"), startDelay: 1, waitUntilReady: false)
            defer { absent.stop() }
            while !FileManager.default.fileExists(atPath: scratch.sockets + "/late.sock") { try await Task.sleep(for: .milliseconds(10)) }
            let mounts = Self.mounts(scratch)
            async let late = mounts.claim(containerID: "c1", driver: "late", name: "v")
            async let gone = mounts.claim(containerID: "c1", driver: "absent", name: "v")
            _ = try await (late, gone)
            #expect(refusing.callNames() == ["Plugin.Activate", "VolumeDriver.Get", "VolumeDriver.Create", "VolumeDriver.Mount"])
            #expect(absent.callNames() == ["Plugin.Activate", "VolumeDriver.Get", "VolumeDriver.Create", "VolumeDriver.Mount"])
        }
    }

    @Test(TestVolumePlugin.requirement)
    func aPluginThatNeverComesUpFailsAfterTheWindowNamingItsSocket() async throws {
        try await PluginScratch.with { scratch in
            let socket = scratch.sockets + "/never.sock"
            let plugin = try TestVolumePlugin(address: socket, state: scratch.state("never"), listenDelay: 3600, waitUntilReady: false)
            defer { plugin.stop() }
            while !FileManager.default.fileExists(atPath: socket) { try await Task.sleep(for: .milliseconds(10)) }
            let mounts = Self.mounts(
                scratch, retry: .init(window: .seconds(1), firstDelay: .milliseconds(50), maxDelay: .milliseconds(200)))
            let started = ContinuousClock.now
            let error = try await #require(throws: CapstanError.self) {
                try await mounts.claim(containerID: "c1", driver: "never", name: "v")
            }
            #expect(ContinuousClock.now - started >= .milliseconds(500))
            #expect(error.code == .unavailable)
            #expect(error.message.contains("unix://\(socket)") && error.message.contains("could not be reached"), "\(error)")
            #expect(await mounts.mounts().isEmpty)
        }
    }

    @Test(TestVolumePlugin.requirement)
    func anUnmountThatCannotReachThePluginIsKeptAndFinishedByTheNextClaim() async throws {
        try await PluginScratch.with { scratch in
            let socket = scratch.sockets + "/flaky.sock"
            let first = try TestVolumePlugin(address: socket, state: scratch.state("flaky-1"))
            let mounts = Self.mounts(
                scratch, retry: .init(window: .seconds(1), firstDelay: .milliseconds(50), maxDelay: .milliseconds(200)))
            _ = try await mounts.claim(containerID: "c1", driver: "flaky", name: "v")
            let mountID = try #require(first.calls().last?.body["ID"])
            first.stop()

            await mounts.release(containerID: "c1")
            let pending = await mounts.mounts()
            #expect(pending.map(\.state) == [.unmounting] && pending.first?.mountID == mountID && pending.first?.claimants == [])
            // An agent restart now would send the Unmount again: the record is on disk.
            #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.journal) == ["\(mountID).json"])

            // The plugin is back; the next claim first finishes the old Unmount, then mounts afresh.
            let second = try TestVolumePlugin(address: socket, state: scratch.state("flaky-2"))
            defer { second.stop() }
            _ = try await mounts.claim(containerID: "c2", driver: "flaky", name: "v")
            let calls = second.calls()
            #expect(calls.map(\.call) == ["VolumeDriver.Unmount", "VolumeDriver.Get", "VolumeDriver.Create", "VolumeDriver.Mount"])
            #expect(calls.first?.body["ID"] == mountID && calls.last?.body["ID"] != mountID)
            #expect(await mounts.mounts().map(\.claimants) == [["c2"]])
        }
    }

    @Test(TestVolumePlugin.requirement)
    func aStallingOrFloodingPluginIsCutOffAndTheMountUndone() async throws {
        try await PluginScratch.with { scratch in
            let plugin = try TestVolumePlugin(address: scratch.sockets + "/slow.sock", state: scratch.state("slow"))
            defer { plugin.stop() }
            let mounts = Self.mounts(scratch, callTimeout: .seconds(2))
            try plugin.control(["VolumeDriver.Mount": ["sleep": 30]])
            let stalled = try await #require(throws: CapstanError.self) {
                try await mounts.claim(containerID: "c1", driver: "slow", name: "v")
            }
            #expect(stalled.code == .timeout, "\(stalled)")
            // The Mount may have happened: it is undone with its own ID.
            let mountID = plugin.calls().first { $0.call == "VolumeDriver.Mount" }?.body["ID"]
            #expect(plugin.calls().last?.call == "VolumeDriver.Unmount" && plugin.calls().last?.body["ID"] == mountID)
            #expect(await mounts.mounts().isEmpty)

            try plugin.control(["VolumeDriver.Mount": ["huge": 3_000_000]])
            let flooded = try await #require(throws: CapstanError.self) {
                try await mounts.claim(containerID: "c1", driver: "slow", name: "v")
            }
            #expect(flooded.message.contains("more than \(1 << 20) bytes"), "\(flooded)")
            #expect(await mounts.mounts().isEmpty)
        }
    }

    @Test(TestVolumePlugin.requirement)
    func capabilitiesAreOptional() async throws {
        try await PluginScratch.with { scratch in
            let with = try TestVolumePlugin(address: scratch.sockets + "/caps.sock", state: scratch.state("caps"))
            let without = try TestVolumePlugin(
                address: scratch.sockets + "/nocaps.sock", state: scratch.state("nocaps"), capabilities: false)
            defer {
                with.stop()
                without.stop()
            }
            let plugins = DockerVolumePlugins(directories: scratch.directories, retry: Self.quickRetry)
            #expect(try await plugins.driver(DockerPluginName("caps")).capabilities() == .local)
            #expect(try await plugins.driver(DockerPluginName("nocaps")).capabilities() == nil)
            let driver = try await plugins.driver(DockerPluginName("caps"))
            try await driver.create(DockerVolumeName("p"), options: [:])
            #expect(try await driver.path(DockerVolumeName("p")) == nil)
            _ = try await driver.mount(DockerVolumeName("p"), id: "x")
            #expect(try await driver.path(DockerVolumeName("p")) == scratch.state("caps") + "/mnt/p")
            #expect(try await driver.get(DockerVolumeName("p"))?.Name == "p")
        }
    }
}
