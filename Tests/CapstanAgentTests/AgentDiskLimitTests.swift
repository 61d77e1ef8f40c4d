import CapstanAPI
import CapstanContainerizer
import CapstanCore
import Testing

@testable import CapstanAgent

/// What the agent hands the `disk/du` isolator, and how it shows its disk flags.
@Suite("Agent disk limits")
struct AgentDiskLimitTests {
    @Test("A container's disk limit is its resources' disk in MB, leaving out persistent volumes, which hold their own space")
    func diskLimitLeavesOutPersistentVolumes() async throws {
        try await AgentFixture.with { fixture in
            let volume = MesosResource(
                name: "disk", type: .scalar, scalar: ValueScalar(value: 100), disk: .init(persistence: .init(id: "data")))
            let resources = Resources([.scalar("cpus", 1), .scalar("disk", 10)]).mesos + [volume] + Resources([.scalar("disk", 5)]).mesos
            #expect(await fixture.agent.limits(resources).diskBytes == 15 << 20)
            #expect(await fixture.agent.limits(Resources([.scalar("mem", 32)]).mesos).diskBytes == nil, "no disk: no limit")
        }
    }

    @Test("GET_FLAGS shows the disk/du flags under their Mesos names, with Mesos' defaults")
    func getFlagsShowsTheDiskFlags() async throws {
        try await AgentFixture.with { fixture in
            let defaults = try await fixture.agent.operatorCall(AgentOperatorCall(type: .getFlags)).getFlags?.flags ?? []
            let named = Dictionary(defaults.map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { a, _ in a })
            #expect(named["container_disk_watch_interval"] == "15.0secs")
            #expect(named["enforce_container_disk_quota"] == "false")
            #expect(named["xfs_project_range"] == "[5000-10000]")
        }
        try await AgentFixture.with(configure: { $0.diskUsage = .init(interval: .seconds(1), enforce: true) }) { fixture in
            let flags = try await fixture.agent.operatorCall(AgentOperatorCall(type: .getFlags)).getFlags?.flags ?? []
            #expect(flags.contains { $0.name == "enforce_container_disk_quota" && $0.value == "true" })
            #expect(flags.contains { $0.name == "container_disk_watch_interval" && $0.value == "1.0secs" })
        }
    }
}
