import CapstanAPI
import CapstanAPIClient
import CapstanCore
import CapstanTestSupport
import Foundation
import Logging
import Testing

@testable import CapstanMaster

/// Weights, quota and maintenance in the master's registry: the operations, the SQLite store (new tables on an old
/// database too), and the master's write-then-apply.
@Suite("Registry settings")
struct RegistrySettingsTests {
    static let cpus4 = Resources([.scalar("cpus", 4)]).mesos

    static func schedule(_ hostnames: String...) -> MaintenanceSchedule {
        MaintenanceSchedule(windows: [
            .init(machineIDs: hostnames.map { MesosMachineID(hostname: $0) }, unavailability: Unavailability(start: TimeInfo(nanoseconds: 1_000)))
        ])
    }

    static func scratch() -> String {
        NSTemporaryDirectory() + "capstan-registry-settings-\(UUID().uuidString.prefix(6))"
    }

    static func python(_ script: String, _ arguments: String...) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "python3 -c \(script)")
    }

    @Test func applyingSetsAndRemovesWeightsQuotasAndMaintenance() throws {
        var state = MaintenanceState()
        try state.replaceSchedule(Self.schedule("h1", "h2").windowsInCore, field: "schedule")
        try state.startMaintenance([MachineID(hostname: "h2", ip: nil)], field: "machines")
        let maintenance = RegisteredMaintenance(state)
        #expect(maintenance.machines == [
            .init(id: MesosMachineID(hostname: "h2"), mode: "DOWN"), .init(id: MesosMachineID(hostname: "h1"), mode: "DRAINING"),
        ])

        let contents = RegistryContents().applying([
            .setWeight(role: "web", weight: 2), .setWeight(role: "batch", weight: 0.5), .setWeight(role: "web", weight: 3),
            .setQuota(QuotaInfo(role: "db", guarantee: Self.cpus4)), .setQuota(QuotaInfo(role: "ml", guarantee: Self.cpus4)),
            .removeQuota(role: "ml"), .updateMaintenance(RegisteredMaintenance(schedule: Self.schedule("h9"))),
            .updateMaintenance(maintenance),
        ])
        #expect(contents.weights == ["web": 3, "batch": 0.5])
        #expect(contents.quotas == ["db": QuotaInfo(role: "db", guarantee: Self.cpus4)])
        #expect(contents.maintenance == maintenance)
        #expect(contents.agents.isEmpty && contents.frameworks.isEmpty)

        let restored = try contents.maintenance.state(source: "test")
        #expect(restored.windows == state.windows)
        #expect(restored.downMachines == state.downMachines)
        #expect(restored.mode(of: MachineID(hostname: "h1", ip: nil)) == .draining)
    }

    @Test func aDownMachineOutsideTheScheduleIsRefusedOnRestore() {
        let broken = RegisteredMaintenance(schedule: Self.schedule("h1"), machines: [.init(id: MesosMachineID(hostname: "h7"), mode: "DOWN")])
        let error = #expect(throws: CapstanError.self) { try broken.state(source: "registry.sqlite") }
        #expect(error?.message.contains("The maintenance schedule in registry.sqlite breaks a maintenance rule") == true, "\(String(describing: error))")
    }

    @Test func sqliteKeepsTheSettingsAcrossReopens() async throws {
        let directory = Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/registry.sqlite"
        var state = MaintenanceState()
        try state.replaceSchedule(Self.schedule("h1").windowsInCore, field: "schedule")
        try state.startMaintenance([MachineID(hostname: "h1", ip: nil)], field: "machines")
        let operations: [RegistryOperation] = [
            .setWeight(role: "web", weight: 2.5), .setQuota(QuotaInfo(role: "db", guarantee: Self.cpus4)),
            .setQuota(QuotaInfo(role: "ml", guarantee: Self.cpus4)), .updateMaintenance(RegisteredMaintenance(state)), .removeQuota(role: "ml"),
        ]
        try await SQLiteMasterRegistry(path: path).apply(operations)
        let reopened = try await SQLiteMasterRegistry(path: path).load()
        #expect(reopened == RegistryContents().applying(operations))
        #expect(reopened.weights == ["web": 2.5])
        #expect(reopened.quotas.keys.sorted() == ["db"])
        #expect(reopened.maintenance.machines == [.init(id: MesosMachineID(hostname: "h1"), mode: "DOWN")])
    }

    @Test func aDatabaseOfTheFirstVersionGainsTheNewTablesAndKeepsItsRows() async throws {
        let directory = Self.scratch()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/registry.sqlite"
        // What a master of the first registry version left: its two tables and GRDB's record of its one migration.
        let agent = String(decoding: try MesosJSON.encode(MasterRegistryStoreTests.agent("a1", port: 7)), as: UTF8.self)
        try Self.python(
            """
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1])
            c.execute("CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
            c.execute("INSERT INTO grdb_migrations VALUES ('v1: agents, frameworks')")
            c.execute("CREATE TABLE agent (id TEXT NOT NULL PRIMARY KEY, record TEXT NOT NULL)")
            c.execute("CREATE TABLE framework (id TEXT NOT NULL PRIMARY KEY, record TEXT NOT NULL)")
            c.execute("INSERT INTO agent VALUES ('a1', ?)", (sys.argv[2],))
            c.commit()
            """, path, agent)
        let registry = try SQLiteMasterRegistry(path: path)
        #expect(try await registry.load() == RegistryContents(agents: [AgentID("a1"): MasterRegistryStoreTests.agent("a1", port: 7)]))
        try await registry.apply([.setWeight(role: "web", weight: 2)])
        #expect(try await SQLiteMasterRegistry(path: path).load().weights == ["web": 2])
    }

    @Test func aFailedRegistryWriteLeavesWeightsQuotaAndMaintenanceUnchanged() async throws {
        let directory = Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/registry.sqlite"
        let store = try SQLiteMasterRegistry(path: path)
        let writer = RegistryWriter(registry: store, logger: Logger(label: "test"))
        let master = Master(
            configuration: MasterConfiguration(workDir: directory), agentLink: RecordingMessenger(), logger: Logger(label: "test"), registry: writer)
        // A write that works, then the tables vanish underneath the master: every later write fails.
        try await master.updateWeights([WeightInfo(weight: 2, role: "web")], field: "update_weights.weight_infos")
        try await master.updateMaintenanceSchedule(Self.schedule("h1"), field: "schedule")
        try Self.python(
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); [c.execute('DROP TABLE ' + t) for t in ('weight', 'quota', 'maintenance')]; c.commit()",
            path)

        let weights = await #expect(throws: CapstanError.self) {
            try await master.updateWeights([WeightInfo(weight: 5, role: "web"), WeightInfo(weight: 3, role: "batch")], field: "update_weights.weight_infos")
        }
        #expect(weights?.code == .unavailable)
        #expect(weights?.message.contains("UPDATE_WEIGHTS was not applied") == true, "\(String(describing: weights))")
        #expect(await master.weightInfos() == [WeightInfo(weight: 2, role: "web")])

        let quota = await #expect(throws: CapstanError.self) {
            try await master.setQuota(QuotaRequest(role: "db", guarantee: Self.cpus4, force: true), field: "set_quota.quota_request")
        }
        #expect(quota?.code == .unavailable)
        #expect(await master.quotaStatus().infos.isEmpty)

        await #expect(throws: CapstanError.self) {
            try await master.startMaintenance([MesosMachineID(hostname: "h1")], field: "start_maintenance.machines")
        }
        await #expect(throws: CapstanError.self) {
            try await master.updateMaintenanceSchedule(Self.schedule("h2"), field: "schedule")
        }
        #expect(await master.maintenanceSchedule() == Self.schedule("h1"))
        #expect(await master.maintenanceStatus().downMachines.isEmpty)
        #expect(await master.maintenanceStatus().drainingMachines.map(\.id) == [MesosMachineID(hostname: "h1")])
        await writer.finish()
    }

    @Test func aMasterRestoresWeightsQuotaAndMaintenanceFromTheRegistryAndTheRegistryWinsOverWeightsFlag() async throws {
        var state = MaintenanceState()
        try state.replaceSchedule(Self.schedule("h1", "h2").windowsInCore, field: "schedule")
        try state.startMaintenance([MachineID(hostname: "h2", ip: nil)], field: "machines")
        let recovered = RegistryContents(
            weights: ["web": 3], quotas: ["db": QuotaInfo(role: "db", guarantee: Self.cpus4)], maintenance: RegisteredMaintenance(state))
        let master = Master(
            configuration: MasterConfiguration(workDir: Self.scratch(), roleWeights: ["web": 1, "batch": 2]), agentLink: RecordingMessenger(),
            logger: Logger(label: "test"), recovered: recovered)
        #expect(await master.weightInfos() == [WeightInfo(weight: 2, role: "batch"), WeightInfo(weight: 3, role: "web")])
        #expect(await master.quotaStatus() == QuotaStatus(infos: [QuotaInfo(role: "db", guarantee: Self.cpus4)]))
        #expect(await master.maintenanceSchedule() == Self.schedule("h1", "h2"))
        #expect(await master.maintenanceStatus().downMachines == [MesosMachineID(hostname: "h2")])
        // The DOWN machine's agent is refused.
        let info = AgentInfo(hostname: "h2", resources: Resources([.scalar("cpus", 1)]).mesos)
        let refused = await #expect(throws: CapstanError.self) {
            try await master.registerAgent(RegisterAgentMessage(agentID: nil, agentInfo: info, endpoint: "127.0.0.1:1", version: "1.0.0"))
        }
        #expect(refused?.message.contains("DOWN for maintenance") == true)
    }
}

/// The same settings in etcd: one key each under the registry prefix, written in the leader's fenced transaction.
@Suite("Registry settings in etcd", Prerequisites.requires("the etcd registry against a real etcd", EtcdServer.prerequisite))
struct EtcdRegistrySettingsStoreTests {
    @Test func theLeaderWritesTheSettingsUnderThePrefixAndADeposedOneWritesNothing() async throws {
        let etcd = try await EtcdServer.start()
        defer { etcd.stop() }
        let client = try EtcdClient(endpoints: [etcd.endpoint])
        let leadership = EtcdLeadership(client: client, prefix: "/c", ttl: 5, logger: Logger(label: "test"))
        let registry = try await leadership.campaign(advertising: try HostPort.parse("127.0.0.1:5050"))
        var state = MaintenanceState()
        try state.replaceSchedule(RegistrySettingsTests.schedule("h1").windowsInCore, field: "schedule")
        let operations: [RegistryOperation] = [
            .setWeight(role: "web", weight: 2), .setQuota(QuotaInfo(role: "db", guarantee: RegistrySettingsTests.cpus4)),
            .setQuota(QuotaInfo(role: "ml", guarantee: RegistrySettingsTests.cpus4)), .removeQuota(role: "ml"),
            .updateMaintenance(RegisteredMaintenance(state)),
        ]
        try await registry.apply(operations)
        let fence = try #require(await leadership.fence)
        #expect(try await EtcdMasterRegistry(client: client, prefix: "/c", fence: fence).load() == RegistryContents().applying(operations))
        #expect(try await client.range("/c/registry/weights/web").count == 1)
        #expect(try await client.range("/c/registry/quotas/", prefix: true).map(\.key) == ["/c/registry/quotas/db"])
        #expect(try await client.range("/c/registry/maintenance").count == 1)

        // A master whose fence is stale (another leads) writes none of its settings.
        let stale = EtcdMasterRegistry(client: client, prefix: "/c", fence: EtcdFence(leaderKey: fence.leaderKey, createRevision: fence.createRevision - 1))
        await #expect(throws: CapstanError.self) { try await stale.apply([.setWeight(role: "web", weight: 9), .removeQuota(role: "db")]) }
        let after = try await EtcdMasterRegistry(client: client, prefix: "/c", fence: fence).load()
        #expect(after.weights == ["web": 2] && after.quotas.keys.sorted() == ["db"])
        await leadership.resign()
    }
}

/// Counts the writes a master makes.
private actor CountingRegistry: MasterRegistry {
    var batches: [[RegistryOperation]] = []
    func load() -> RegistryContents { RegistryContents() }
    func apply(_ operations: [RegistryOperation]) { batches.append(operations) }
}

@Suite("Agent admission writes the registry only when the agent changed")
struct AgentAdmissionWriteTests {
    @Test func reRegisteringUnchangedWritesNothingAndAChangeIsWritten() async throws {
        let store = CountingRegistry()
        let writer = RegistryWriter(registry: store, logger: Logger(label: "test"))
        let master = Master(
            configuration: MasterConfiguration(workDir: RegistrySettingsTests.scratch()), agentLink: RecordingMessenger(),
            logger: Logger(label: "test"), registry: writer)
        let info = AgentInfo(hostname: "h1", resources: Resources([.scalar("cpus", 1)]).mesos)
        let first = try await master.registerAgent(RegisterAgentMessage(agentID: nil, agentInfo: info, endpoint: "127.0.0.1:1", version: "1.0.0"))
        for _ in 0..<3 {
            _ = try await master.registerAgent(
                RegisterAgentMessage(agentID: first.agentID, agentInfo: info, endpoint: "127.0.0.1:1", version: "1.0.0"))
        }
        var moved = info
        moved.hostname = "h1-renamed"
        _ = try await master.registerAgent(RegisterAgentMessage(agentID: first.agentID, agentInfo: moved, endpoint: "127.0.0.1:2", version: "1.0.0"))
        await writer.finish()
        let admissions = await store.batches.flatMap { $0 }.compactMap { operation -> String? in
            if case .admitAgent(let agent) = operation { return "\(agent.info.hostname)@\(agent.endpoint)" }
            return nil
        }
        #expect(admissions == ["h1@127.0.0.1:1", "h1-renamed@127.0.0.1:2"])
    }
}
