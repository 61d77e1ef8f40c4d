import CapstanCore
import CapstanHTTP
import CapstanTestSupport
import Hummingbird
import Logging
import ServiceLifecycle
import Testing

@Suite("BoundAddress")
struct BoundAddressTests {
    @Test("Waiters started before the server binds all get the bound address; later ones get it at once")
    func waitersGetTheBoundAddress() async throws {
        let bound = BoundAddress()
        #expect(bound.current == nil)
        try await withThrowingTaskGroup(of: HostPort.self) { group in
            for _ in 0..<8 { group.addTask { try await bound.value() } }
            try await Task.sleep(for: .milliseconds(50))
            bound.set(HostPort(host: "127.0.0.1", port: 40123))
            bound.set(HostPort(host: "127.0.0.1", port: 1))  // a server binds once: ignored
            for try await address in group { #expect(address == HostPort(host: "127.0.0.1", port: 40123)) }
        }
        #expect(try await bound.value() == HostPort(host: "127.0.0.1", port: 40123))
        #expect(bound.current?.port == 40123)
    }

    @Test("A waiter cancelled before the server binds throws CancellationError instead of hanging")
    func cancelledWaiterThrows() async throws {
        let bound = BoundAddress()
        let waiter = Task { try await bound.value() }
        try await Task.sleep(for: .milliseconds(50))
        waiter.cancel()
        await #expect(throws: CancellationError.self) { _ = try await waiter.value }
        bound.set(HostPort(host: "127.0.0.1", port: 2))
        #expect(try await bound.value().port == 2)
    }

    @Test("A server on port 0 reports the port the kernel gave it, and answers there")
    func serverOnPortZeroReportsItsPort() async throws {
        let router = Router()
        router.get("health") { _, _ in Response(status: .ok) }
        let bound = BoundAddress()
        let app = try HTTPServer.application(
            router: router, listen: HostPort(host: "127.0.0.1", port: 0), serverName: "bound-test", logger: Logger(label: "test")
        ) { bound.set($0) }
        let group = ServiceGroup(services: [app], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let address = try await bound.value()
            #expect(address.host == "127.0.0.1" && address.port != 0)
            #expect(LoopbackSocket.canConnect(port: address.port))
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}
