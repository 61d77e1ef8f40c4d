import CapstanAPI
import CapstanHTTP
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// Issue 9, item 6: request bodies are bounded in size (413) and in JSON nesting (400 naming depth and limit).
@Suite("Request.decodeMesos")
struct DecodeMesosTests {
    func app() -> some ApplicationProtocol {
        let router = Router()
        router.post("api/v1/scheduler") { request, _ in
            let call = try await request.decodeMesos(SchedulerCall.self)
            return Response(status: .accepted, headers: [.init("X-Call-Type")!: call.type?.rawValue ?? "?"])
        }
        router.post("small") { request, _ in
            _ = try await request.decodeMesos(SchedulerCall.self, limit: 64)
            return Response(status: .accepted)
        }
        return Application(router: router)
    }

    static let json: HTTPFields = [.contentType: "application/json"]

    @Test func aValidCallIsDecoded() async throws {
        try await app().test(.router) { client in
            let body = ByteBuffer(string: #"{"type":"TEARDOWN","framework_id":{"value":"f"}}"#)
            try await client.execute(uri: "/api/v1/scheduler", method: .post, headers: Self.json, body: body) { response in
                #expect(response.status == .accepted)
                #expect(response.headers[.init("X-Call-Type")!] == "TEARDOWN")
            }
        }
    }

    @Test func aBodyOverSixteenMiBIsA413() async throws {
        try await app().test(.router) { client in
            let body = ByteBuffer(repeating: UInt8(ascii: " "), count: (16 << 20) + 1)
            try await client.execute(uri: "/api/v1/scheduler", method: .post, headers: Self.json, body: body) { response in
                #expect(response.status == .contentTooLarge)
                #expect(String(buffer: response.body) == "Request body is larger than the limit of 16 MiB (16777216 bytes)")
            }
            let small = ByteBuffer(repeating: UInt8(ascii: " "), count: 65)
            try await client.execute(uri: "/small", method: .post, headers: Self.json, body: small) { response in
                #expect(response.status == .contentTooLarge)
                #expect(String(buffer: response.body) == "Request body is larger than the limit of 64 bytes")
            }
        }
    }

    @Test func aBodyNested5000LevelsIsA400NamingTheDepthAndTheLimit() async throws {
        try await app().test(.router) { client in
            let text = #"{"type":"ACCEPT","accept":"# + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "}"
            try await client.execute(uri: "/api/v1/scheduler", method: .post, headers: Self.json, body: ByteBuffer(string: text)) {
                response in
                #expect(response.status == .badRequest)
                #expect(
                    String(buffer: response.body)
                        == "Failed to parse body into SchedulerCall: JSON is nested 5001 levels deep, more than the limit of 64 "
                        + "(level 65 starts at byte 89)")
            }
        }
    }
}
