import CapstanAPI
import CapstanAPIClient
import CapstanCore
import CapstanHTTP
import CapstanReconciler
import CapstanTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

typealias Framework = OperatorResponse.GetFrameworks.Framework

func framework(_ name: String, id: String, webui: String?, connected: Bool = true, registered: Int64 = 1) -> Framework {
    Framework(
        frameworkInfo: FrameworkInfo(user: "root", name: name, id: FrameworkID(id), webuiURL: webui),
        active: connected, connected: connected, registeredTime: TimeInfo(nanoseconds: registered))
}

/// A master that answers GET_FRAMEWORKS with a `capstan-reconciler` framework whose webui_url is this same server,
/// next to the reconciler's routes serving `status`: discovery and API in one live server.
func liveReconciler(
    status: ReconcilerStatus, store: HistoryStore, registerFramework: Bool = true
) -> some ApplicationProtocol {
    let routes = ReconcilerRoutes(status: { status }, historyStore: store, verifySignature: nil, onPush: {})
    let router = routes.router()
    router.post("api/v1") { request, _ in
        let own = "http://\(request.head.authority ?? "127.0.0.1")/"
        var frameworks = [framework("marathon", id: "f-1", webui: "http://127.0.0.1:1")]
        if registerFramework { frameworks.append(framework(ReconcilerModule.frameworkName, id: "f-2", webui: own)) }
        return try Response.mesosJSON(OperatorResponse(type: .getFrameworks, getFrameworks: .init(frameworks: frameworks)))
    }
    return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
}

@Suite("ReconcilerClient")
struct ReconcilerClientTests {
    let master = HostPort(host: "127.0.0.1", port: 5050)

    @Test("Discovery picks the connected capstan-reconciler framework, newest registration first")
    func picksConnectedNewest() throws {
        let frameworks = OperatorResponse.GetFrameworks(frameworks: [
            framework("capstan-reconciler", id: "old", webui: "http://10.0.0.1:5052", connected: false, registered: 30),
            framework("other", id: "x", webui: "http://10.0.0.9:1"),
            framework("capstan-reconciler", id: "a", webui: "http://10.0.0.2:5052/", registered: 10),
            framework("capstan-reconciler", id: "b", webui: "10.0.0.3:5052", registered: 20),
        ])
        #expect(try ReconcilerClient.reconcilerURL(in: frameworks, master: master) == "http://10.0.0.3:5052")
        let onlyDisconnected = OperatorResponse.GetFrameworks(frameworks: [
            framework("capstan-reconciler", id: "old", webui: "http://10.0.0.1:5052/", connected: false),
        ])
        #expect(try ReconcilerClient.reconcilerURL(in: onlyDisconnected, master: master) == "http://10.0.0.1:5052")
    }

    @Test("No reconciler framework is a notFound error naming the framework and the master")
    func noFramework() {
        let frameworks = OperatorResponse.GetFrameworks(frameworks: [framework("marathon", id: "m", webui: "http://x")])
        #expect {
            try ReconcilerClient.reconcilerURL(in: frameworks, master: master)
        } throws: { error in
            let error = error as? CapstanError
            return error?.code == .notFound && error!.message.contains("capstan-reconciler") && error!.message.contains("127.0.0.1:5050")
        }
    }

    @Test("A reconciler framework without webui_url is a failedPrecondition error suggesting --reconciler")
    func noWebUI() {
        let frameworks = OperatorResponse.GetFrameworks(frameworks: [framework("capstan-reconciler", id: "r", webui: nil)])
        #expect {
            try ReconcilerClient.reconcilerURL(in: frameworks, master: master)
        } throws: { error in
            let error = error as? CapstanError
            return error?.code == .failedPrecondition && error!.message.contains("--reconciler")
        }
    }

    @Test("Discovery through a live master, then status and history over HTTP")
    func discoversAndReads() async throws {
        let store = try HistoryStore.inMemory()
        try await store.record(HistoryEntry(app: "web", event: .created, commit: "aaaaaaaaaaaa", message: "created"))
        try await liveReconciler(status: .sample, store: store).test(.live) { client in
            let port = try #require(client.port)
            let reconciler = try await ReconcilerClient.discover(master: HostPort(host: "127.0.0.1", port: port))
            #expect(reconciler.baseURL == "http://127.0.0.1:\(port)")
            #expect(try await reconciler.status() == .sample)
            let page = try await reconciler.history(app: "web", limit: 5)
            #expect(page.app == "web" && page.entries.map(\.event) == [.created])
        }
    }

    @Test("An unreachable master or reconciler is an unavailable error naming it")
    func unreachable() async throws {
        let closed = ClosedPort()
        let port = closed.port
        defer { withExtendedLifetime(closed) {} }
        // AsyncHTTPClient retries refused connections until the deadline: keep it short.
        let poster = JSONPoster(timeout: .seconds(1))
        await #expect {
            _ = try await ReconcilerClient.discover(master: HostPort(host: "127.0.0.1", port: port), poster: poster)
        } throws: { error in
            let error = error as? CapstanError
            return error?.code == .unavailable && error!.message == "Cannot reach the master at 127.0.0.1:\(port)"
        }
        await #expect {
            _ = try await ReconcilerClient(baseURL: "http://127.0.0.1:\(port)", poster: poster).status()
        } throws: { error in
            let error = error as? CapstanError
            return error?.code == .unavailable && error!.message.contains("reconciler at http://127.0.0.1:\(port)")
        }
    }

    @Test("A history error answer is re-thrown with the reconciler's message")
    func errorAnswer() async throws {
        try await liveReconciler(status: .sample, store: try HistoryStore.inMemory()).test(.live) { client in
            let port = try #require(client.port)
            await #expect {
                _ = try await ReconcilerClient(baseURL: "127.0.0.1:\(port)").history(app: "web", limit: 0)
            } throws: { error in
                (error as? CapstanError)?.message.contains("'limit' must be a whole number") == true
            }
        }
    }
}
