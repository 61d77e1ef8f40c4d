import CapstanCore
import CapstanHTTP
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// A leadership whose state the test sets.
struct FixedLeadership: Leadership {
    let state: LeadershipState
    func current() async -> LeadershipState { state }
}

@Suite("LeaderRedirectMiddleware")
struct LeaderRedirectMiddlewareTests {
    func app(_ state: LeadershipState) -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: LeaderRedirectMiddleware(leadership: FixedLeadership(state: state)))
        router.post("api/v1/scheduler") { _, _ in Response(status: .accepted) }
        router.get("health") { _, _ in Response(status: .ok) }
        return Application(router: router)
    }

    @Test("A following master answers 307 with the leader's address, scheme-relative, keeping path and query")
    func followerRedirectsToLeader() async throws {
        try await app(.following(leader: HostPort(host: "10.1.2.3", port: 5050))).test(.router) { client in
            try await client.execute(uri: "/api/v1/scheduler?x=1", method: .post) { response in
                #expect(response.status == .temporaryRedirect)
                #expect(response.headers[.location] == "//10.1.2.3:5050/api/v1/scheduler?x=1")
            }
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok, "health stays local on every master")
            }
        }
    }

    @Test("A follower's /redirect names the leader itself, and agents' internal calls and legacy listings go to the leader")
    func followerRedirectNamesLeader() async throws {
        try await app(.following(leader: HostPort(host: "10.1.2.3", port: 5050))).test(.router) { client in
            for path in ["/redirect", "/master/redirect?jsonp=x"] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .temporaryRedirect)
                    #expect(response.headers[.location] == "//10.1.2.3:5050", "\(path)")
                }
            }
            for path in ["/master/internal/register", "/slaves", "/master/tasks", "/state-summary"] {
                try await client.execute(uri: path, method: .post) { response in
                    #expect(response.status == .temporaryRedirect, "\(path)")
                    #expect(response.headers[.location] == "//10.1.2.3:5050\(path)")
                }
            }
        }
    }

    @Test("Without a leader the API answers 503")
    func electingAnswers503() async throws {
        try await app(.electing).test(.router) { client in
            try await client.execute(uri: "/api/v1/scheduler", method: .post) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(String(buffer: response.body).contains("No leader elected"))
            }
        }
    }

    @Test("The leader serves the request")
    func leaderServes() async throws {
        try await app(.leading).test(.router) { client in
            try await client.execute(uri: "/api/v1/scheduler", method: .post) { response in
                #expect(response.status == .accepted)
            }
        }
    }
}

@Suite("APIError")
struct APIErrorTests {
    @Test("Each error code maps to the HTTP status clients expect", arguments: [
        (CapstanError.Code.invalidArgument, HTTPResponse.Status.badRequest),
        (.notFound, .notFound), (.permissionDenied, .forbidden), (.unavailable, .serviceUnavailable),
        (.conflict, .conflict), (.unsupported, .notImplemented), (.internal, .internalServerError),
    ])
    func mapsCodes(code: CapstanError.Code, status: HTTPResponse.Status) {
        #expect(APIError(CapstanError(code, "x")).status == status)
    }
}
