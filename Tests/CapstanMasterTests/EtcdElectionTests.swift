import CapstanAPI
import CapstanAPIClient
import CapstanCore
import CapstanHTTP
import CapstanTestSupport
import Foundation
import Logging
import Synchronization
import Testing

@testable import CapstanMaster

/// Leader election and the fenced registry against a real etcd.
@Suite("etcd election and fenced registry", .serialized, Prerequisites.requires("etcd election against a real etcd", EtcdServer.prerequisite))
struct EtcdElectionTests {
    static let logger = Logger(label: "test.etcd")

    static func agent(_ id: String) -> RegisteredAgent {
        RegisteredAgent(id: AgentID(id), info: AgentInfo(hostname: "h-\(id)", resources: []), endpoint: "127.0.0.1:1", principal: nil)
    }

    /// Records the reasons given to `onLost`.
    final class Losses: Sendable {
        let reasons = Mutex<[String]>([])
        var all: [String] { reasons.withLock { $0 } }
        func record(_ reason: String) { reasons.withLock { $0.append(reason) } }
    }

    static func waitFor(_ what: String, timeout: Duration = .seconds(15), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("timed out waiting for \(what)")
    }

    @Test func theRegistryKeepsWhatTheLeaderApplied() async throws {
        let etcd = try await EtcdServer.start()
        defer { etcd.stop() }
        let client = try EtcdClient(endpoints: [etcd.endpoint])
        let leadership = EtcdLeadership(client: client, prefix: "/c", ttl: 5, logger: Self.logger)
        let registry = try await leadership.campaign(advertising: try HostPort.parse("127.0.0.1:5050"))
        let framework = RegisteredFramework(id: FrameworkID("fw"), info: FrameworkInfo(user: "root", name: "f", failoverTimeout: 60), principal: "p")
        let operations: [RegistryOperation] = [
            .admitAgent(Self.agent("a1")), .admitAgent(Self.agent("a2")), .recordFramework(framework), .removeAgent(AgentID("a1")),
        ]
        try await registry.apply(operations)
        // A later leader (another process) reads it back from etcd.
        let fence = try #require(await leadership.fence)
        let reader = EtcdMasterRegistry(client: client, prefix: "/c", fence: fence)
        #expect(try await reader.load() == RegistryContents().applying(operations))
        #expect(try await client.range("/c/registry/agents/a2").count == 1)
        await leadership.resign()
    }

    @Test func oneOfTwoCandidatesLeadsAndTheOtherFollowsIt() async throws {
        let etcd = try await EtcdServer.start()
        defer { etcd.stop() }
        let client = try EtcdClient(endpoints: [etcd.endpoint])
        let first = EtcdLeadership(client: client, prefix: "/c", ttl: 2, logger: Self.logger)
        let second = EtcdLeadership(client: client, prefix: "/c", ttl: 2, logger: Self.logger)
        _ = try await first.campaign(advertising: try HostPort.parse("127.0.0.1:1111"))
        #expect(await first.current() == .electing)  // won, but not serving until the master recovered
        await first.serve()
        #expect(await first.current() == .leading)
        let campaign = Task { try await second.campaign(advertising: try HostPort.parse("127.0.0.1:2222")) }
        try await Self.waitFor("the second to follow") { await second.current() == .following(leader: try HostPort.parse("127.0.0.1:1111")) }
        // The first keeps its lease well past its TTL by renewing it.
        try await Task.sleep(for: .seconds(3))
        #expect(await first.current() == .leading)
        #expect(await second.current() == .following(leader: try HostPort.parse("127.0.0.1:1111")))
        // It resigns: the second is elected.
        await first.resign()
        _ = try await campaign.value
        await second.serve()
        #expect(await second.current() == .leading)
        #expect(await first.current() == .electing)
        await second.resign()
    }

    @Test func aMasterRestartedBeforeItsOldLeaseEndedDoesNotFollowItself() async throws {
        let etcd = try await EtcdServer.start()
        defer { etcd.stop() }
        let client = try EtcdClient(endpoints: [etcd.endpoint])
        // Its previous run's key, still alive.
        let oldLease = try await client.grantLease(ttl: 30)
        try await client.put("/c/leader", Data("127.0.0.1:1111".utf8), lease: oldLease)
        let restarted = EtcdLeadership(client: client, prefix: "/c", ttl: 2, logger: Self.logger)
        let campaign = Task { try await restarted.campaign(advertising: try HostPort.parse("127.0.0.1:1111")) }
        try await Task.sleep(for: .seconds(1))
        #expect(await restarted.current() == .electing)  // 503, not a 307 to itself
        try await client.revoke(lease: oldLease)
        _ = try await campaign.value
        await restarted.serve()
        #expect(await restarted.current() == .leading)
        await restarted.resign()
    }

    @Test func aDeposedLeadersWritesDoNotLandAndItStepsDown() async throws {
        let etcd = try await EtcdServer.start()
        defer { etcd.stop() }
        let client = try EtcdClient(endpoints: [etcd.endpoint])
        let losses = Losses()
        let old = EtcdLeadership(client: client, prefix: "/c", ttl: 2, logger: Self.logger) { losses.record($0) }
        let oldRegistry = try await old.campaign(advertising: try HostPort.parse("127.0.0.1:1111"))
        await old.serve()
        try await oldRegistry.apply([.admitAgent(Self.agent("before"))])
        // Its lease ends behind its back (as when it was paused past its TTL) and another master is elected.
        let oldFence = try #require(await old.fence)
        let oldLease = try #require(try await client.range("/c/leader").first?.lease)
        try await client.revoke(lease: oldLease)
        let new = EtcdLeadership(client: client, prefix: "/c", ttl: 2, logger: Self.logger)
        let newRegistry = try await new.campaign(advertising: try HostPort.parse("127.0.0.1:2222"))
        #expect(try #require(await new.fence).createRevision > oldFence.createRevision)
        // The old leader's write is refused by the fence, and it steps down.
        await #expect(throws: CapstanError.self) { try await oldRegistry.apply([.admitAgent(Self.agent("stale"))]) }
        try await Self.waitFor("the old leader to step down") { !losses.all.isEmpty }
        #expect(await old.current() == .electing)
        let contents = try await newRegistry.load()
        #expect(contents.agents.keys.map(\.value) == ["before"])
        try await newRegistry.apply([.admitAgent(Self.agent("after"))])
        #expect(Set(try await newRegistry.load().agents.keys.map(\.value)) == ["before", "after"])
        await new.resign()
    }

    @Test func aLeaderWhoseLeaseExpiredStepsDownOnItsOwn() async throws {
        let etcd = try await EtcdServer.start()
        defer { etcd.stop() }
        let client = try EtcdClient(endpoints: [etcd.endpoint])
        let losses = Losses()
        let leader = EtcdLeadership(client: client, prefix: "/c", ttl: 2, logger: Self.logger) { losses.record($0) }
        _ = try await leader.campaign(advertising: try HostPort.parse("127.0.0.1:1111"))
        await leader.serve()
        let lease = try #require(try await client.range("/c/leader").first?.lease)
        try await client.revoke(lease: lease)
        // Its next renewal (within a third of the TTL) learns the lease is gone.
        try await Self.waitFor("the leader to step down", timeout: .seconds(5)) { !losses.all.isEmpty }
        #expect(losses.all.first?.contains("expired") == true)
        #expect(await leader.current() == .electing)
    }

    @Test func aLeaderCutOffFromEtcdStepsDownWithinItsTTL() async throws {
        let etcd = try await EtcdServer.start()
        let client = try EtcdClient(endpoints: [etcd.endpoint])
        let losses = Losses()
        let leader = EtcdLeadership(client: client, prefix: "/c", ttl: 2, logger: Self.logger) { losses.record($0) }
        _ = try await leader.campaign(advertising: try HostPort.parse("127.0.0.1:1111"))
        await leader.serve()
        etcd.stop()
        let stopped = ContinuousClock.now
        try await Self.waitFor("the leader to step down", timeout: .seconds(6)) { !losses.all.isEmpty }
        #expect(ContinuousClock.now - stopped <= .seconds(3))
        #expect(await leader.current() == .electing)
    }
}
