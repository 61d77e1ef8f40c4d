import CapstanAPI
import CapstanAuth
import CapstanCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import CapstanMaster

/// The master's HTTP routes in HummingbirdTesting's router mode: requests go through the real router, decoding,
/// authentication and error mapping, with no socket.
@Suite("Master routes")
struct MasterRoutesTests {
    static func application(_ fixture: MasterFixture) -> some ApplicationProtocol {
        let router = Router()
        MasterRoutes.register(on: router, master: fixture.master)
        return Application(router: router)
    }

    static func post(_ client: some TestClientProtocol, _ path: String, _ body: String) async throws -> (status: HTTPResponse.Status, text: String) {
        let response = try await client.execute(
            uri: path, method: .post, headers: [.contentType: "application/json", .accept: "application/json"],
            body: ByteBuffer(string: body))
        return (response.status, String(buffer: response.body))
    }

    @Test("The operator API answers GET_VERSION and GET_AGENTS; TEARDOWN of an unknown framework is 404")
    func operatorCalls() async throws {
        let fixture = MasterFixture()
        let agent = try await fixture.registerAgent()
        try await Self.application(fixture).test(.router) { client in
            let version = try await Self.post(client, "/api/v1", #"{"type":"GET_VERSION"}"#)
            #expect(version.status == .ok)
            #expect(version.text.contains(#""version_info""#))
            let agents = try await Self.post(client, "/api/v1", #"{"type":"GET_AGENTS"}"#)
            #expect(agents.status == .ok)
            #expect(agents.text.contains(agent.value))
            let teardown = try await Self.post(client, "/api/v1", #"{"type":"TEARDOWN","teardown":{"framework_id":{"value":"nope"}}}"#)
            #expect(teardown.status == .notFound)
        }
    }

    @Test("A malformed scheduler call is a 400 that names the JSON field; a call without a stream is refused")
    func badSchedulerCalls() async throws {
        let fixture = MasterFixture()
        try await Self.application(fixture).test(.router) { client in
            let wrongType = try await Self.post(
                client, "/api/v1/scheduler", #"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":7,"name":"x"}}}"#)
            #expect(wrongType.status == .badRequest)
            #expect(wrongType.text.contains("framework_info.user"), "\(wrongType.text)")
            let noStream = try await Self.post(client, "/api/v1/scheduler", #"{"type":"REVIVE","framework_id":{"value":"fw"}}"#)
            #expect(noStream.status.code >= 400 && noStream.status.code < 500, "\(noStream.status) \(noStream.text)")
        }
    }

    @Test("With agent credentials, an unsigned registration and a forged status update are 401 and change nothing")
    func internalCallsNeedSignatures() async throws {
        let credentials = try CredentialSet([.init(principal: "agent-a", secret: "s3cret-s3cret")])
        let fixture = MasterFixture { $0.authentication.agentCredentials = credentials }
        try await Self.application(fixture).test(.router) { client in
            let register = try await Self.post(
                client, InternalPath.register,
                #"{"agent_info":{"hostname":"evil","resources":[]},"endpoint":"127.0.0.1:1","frameworks":[],"tasks":[],"executors":[],"version":"1.0.0"}"#)
            #expect(register.status == .unauthorized)
            let update = try await Self.post(client, InternalPath.statusUpdate, #"{"framework_id":{"value":"f"},"status":{"task_id":{"value":"t"},"state":"TASK_FINISHED"}}"#)
            #expect(update.status == .unauthorized)
        }
        let agents = try await fixture.master.operatorCall(OperatorCall(type: .getAgents)).getAgents?.agents ?? []
        #expect(agents.isEmpty)
    }
}
