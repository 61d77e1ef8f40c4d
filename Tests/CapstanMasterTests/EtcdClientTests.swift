import CapstanAPIClient
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

@testable import CapstanMaster

/// The etcd v3 JSON-gateway client against a real etcd.
@Suite("etcd client", .serialized, Prerequisites.requires("etcd client against a real etcd", EtcdServer.prerequisite))
struct EtcdClientTests {
    @Test func putRangeDeleteAndPrefixes() async throws {
        let etcd = try await EtcdServer.start()
        defer { etcd.stop() }
        let client = try EtcdClient(endpoints: [etcd.endpoint])
        try await client.put("/t/a/1", Data("one".utf8))
        try await client.put("/t/a/2", Data("two".utf8))
        try await client.put("/t/b", Data("bee".utf8))
        #expect(try await client.range("/t/a/1").map(\.value) == [Data("one".utf8)])
        #expect(try await client.range("/t/a/", prefix: true).map(\.key) == ["/t/a/1", "/t/a/2"])
        #expect(try await client.range("/missing").isEmpty)
        try await client.delete("/t/a/", prefix: true)
        #expect(try await client.range("/t/", prefix: true).map(\.key) == ["/t/b"])
    }

    @Test func txnCreateIfAbsentSucceedsOnceAndReportsTheHolder() async throws {
        let etcd = try await EtcdServer.start()
        defer { etcd.stop() }
        let client = try EtcdClient(endpoints: [etcd.endpoint])
        let first = try await client.txn(
            compare: [.createRevision(key: "/k", equals: 0)], success: [.put(key: "/k", value: Data("A".utf8))], failure: [.range(key: "/k")])
        #expect(first.succeeded)
        // proto3 leaves `succeeded` out when false: the client must read that as false.
        let second = try await client.txn(
            compare: [.createRevision(key: "/k", equals: 0)], success: [.put(key: "/k", value: Data("B".utf8))], failure: [.range(key: "/k")])
        #expect(!second.succeeded)
        let holder = try #require(second.ranges.first?.first)
        #expect(holder.value == Data("A".utf8))
        #expect(holder.createRevision == first.revision)
    }

    @Test func leasesKeepKeysAliveUntilRevoked() async throws {
        let etcd = try await EtcdServer.start()
        defer { etcd.stop() }
        let client = try EtcdClient(endpoints: [etcd.endpoint])
        let lease = try await client.grantLease(ttl: 5)
        try await client.put("/leased", Data("x".utf8), lease: lease)
        #expect(try await client.range("/leased").first?.lease == lease)
        #expect(try await client.keepAlive(lease: lease) == 5)
        try await client.revoke(lease: lease)
        #expect(try await client.range("/leased").isEmpty)
        // An unknown (expired) lease renews to TTL 0.
        #expect(try await client.keepAlive(lease: lease) == 0)
    }

    @Test func anUnreachableEtcdIsAnUnavailableErrorNamingTheEndpoints() async throws {
        let port = FreePort.next()
        let client = try EtcdClient(endpoints: ["127.0.0.1:\(port)"])
        let error = await #expect(throws: CapstanError.self) { try await client.range("/x") }
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains("127.0.0.1:\(port)") == true)
    }

    @Test func endpointsMustBePlainHTTP() {
        #expect(throws: CapstanError.self) { try EtcdClient(endpoints: ["https://127.0.0.1:2379"]) }
        #expect(throws: CapstanError.self) { try EtcdClient(endpoints: [" "]) }
    }
}
