import CapstanAPI
import CapstanCore
import CapstanHTTP
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import CapstanMaster

/// The Mesos 1.0 endpoints and operator calls added for the ecosystem: `/master/` aliases, `jsonp`, quota, weights,
/// through the real router (HummingbirdTesting's router mode).
@Suite("Master ecosystem endpoints")
struct MasterEndpointsTests {
    typealias Reply = (status: HTTPResponse.Status, text: String, contentType: String?)

    static func request(
        _ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ path: String, _ body: String? = nil
    ) async throws -> Reply {
        let response = try await client.execute(
            uri: path, method: method, headers: [.contentType: "application/json", .accept: "application/json"],
            body: body.map { ByteBuffer(string: $0) })
        return (response.status, String(buffer: response.body), response.headers[.contentType])
    }

    static func call(_ client: some TestClientProtocol, _ body: String) async throws -> Reply {
        try await request(client, .post, "/api/v1", body)
    }

    @Test("Every JSON endpoint answers under /master/ too, and wraps its JSON for a jsonp callback")
    func aliasesAndJSONP() async throws {
        let fixture = MasterFixture()
        _ = try await fixture.registerAgent()
        try await MasterRoutesTests.application(fixture).test(.router) { client in
            let jsonpPaths = ["state", "state.json", "state-summary", "slaves", "frameworks", "tasks", "tasks.json", "roles", "roles.json", "flags", "quota", "weights"]
            for path in jsonpPaths {
                for prefix in ["/", "/master/"] {
                    let plain = try await Self.request(client, .get, prefix + path)
                    #expect(plain.status == .ok, "\(prefix + path): \(plain.status)")
                    #expect(plain.contentType == "application/json", "\(prefix + path)")
                    let wrapped = try await Self.request(client, .get, prefix + path + "?jsonp=Capstan.callbacks.$cb_1")
                    #expect(wrapped.status == .ok, "\(prefix + path)?jsonp: \(wrapped.status)")
                    #expect(wrapped.contentType == "text/javascript")
                    #expect(wrapped.text == "Capstan.callbacks.$cb_1(" + plain.text + ");", "\(prefix + path)")
                }
            }
            let metrics = try await Self.request(client, .get, "/metrics/snapshot?jsonp=cb")
            #expect(metrics.text.hasPrefix("cb({") && metrics.text.hasSuffix("});"))
            for path in ["/master/health"] {
                #expect(try await Self.request(client, .get, path).status == .ok, "\(path)")
            }
            #expect(try await Self.request(client, .get, "/master/redirect").status == .temporaryRedirect)
            let tasks = try await Self.request(client, .get, "/master/tasks?limit=1&order=asc&jsonp=cb")
            #expect(tasks.text == #"cb({"tasks":[]});"#)
        }
    }

    @Test("A jsonp callback that is not a plain name is a 400, and nothing of it is echoed")
    func hostileJSONPCallbacks() async throws {
        let fixture = MasterFixture()
        try await MasterRoutesTests.application(fixture).test(.router) { client in
            let hostile = [
                "alert(document.cookie)//", "%3C%2Fscript%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E", "a;b", "a%0Ab", "a%20b",
                "1abc", ".x", "", String(repeating: "a", count: 129), "x%22", "%E2%80%A8",
            ]
            for callback in hostile {
                for path in ["/state", "/master/slaves", "/metrics/snapshot", "/tasks"] {
                    let reply = try await Self.request(client, .get, "\(path)?jsonp=\(callback)")
                    #expect(reply.status == .badRequest, "\(path)?jsonp=\(callback): \(reply.status)")
                    #expect(!reply.text.contains("script") && !reply.text.contains("cookie"), "\(reply.text)")
                    #expect(reply.text.contains("jsonp callback must be"), "\(reply.text)")
                }
            }
        }
    }

    @Test("SET_QUOTA, GET_QUOTA, REMOVE_QUOTA and their checks, with the field path in each error")
    func quotaCalls() async throws {
        let fixture = MasterFixture()
        _ = try await fixture.registerAgent("cpus:4;mem:2048")
        try await MasterRoutesTests.application(fixture).test(.router) { client in
            func setQuota(_ role: String, _ guarantee: String, force: Bool = false) async throws -> Reply {
                try await Self.call(
                    client,
                    #"{"type":"SET_QUOTA","set_quota":{"quota_request":{"role":"\#(role)","force":\#(force),"guarantee":\#(guarantee)}}}"#)
            }
            let cpus = #"[{"name":"cpus","type":"SCALAR","scalar":{"value":1.5}},{"name":"mem","type":"SCALAR","scalar":{"value":256}}]"#
            #expect(try await setQuota("analytics", cpus).status == .ok)
            let status = try await Self.call(client, #"{"type":"GET_QUOTA"}"#)
            #expect(status.status == .ok)
            let decoded = try MesosJSON.decode(OperatorResponse.self, from: Data(status.text.utf8))
            let info = try #require(decoded.getQuota?.status.infos.first)
            #expect(info.role == "analytics")
            #expect(try Resources(mesos: info.guarantee) == Resources([.scalar("cpus", 1.5), .scalar("mem", 256)]))
            // It is also shown in GET_ROLES and /roles.
            let roles = try MesosJSON.decode(OperatorResponse.self, from: Data(try await Self.call(client, #"{"type":"GET_ROLES"}"#).text.utf8))
            #expect(roles.getRoles?.roles.contains { $0.name == "analytics" } == true)
            #expect(try await Self.request(client, .get, "/roles").text.contains(#""name":"analytics""#))

            let again = try await setQuota("analytics", cpus)
            #expect(again.status == .badRequest && again.text.contains("already has quota"), "\(again.text)")
            let negative = try await setQuota("batch", #"[{"name":"cpus","type":"SCALAR","scalar":{"value":-1}}]"#)
            #expect(negative.status == .badRequest)
            #expect(negative.text.contains("set_quota.quota_request.guarantee[0].scalar.value must be >= 0"), "\(negative.text)")
            let ranges = try await setQuota("batch", #"[{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":1,"end":2}]}}]"#)
            #expect(ranges.status == .badRequest && ranges.text.contains("set_quota.quota_request.guarantee[0]"), "\(ranges.text)")
            let star = try await setQuota("*", cpus)
            #expect(star.status == .badRequest && star.text.contains("set_quota.quota_request.role"), "\(star.text)")
            let badRole = try await setQuota("a/b", cpus)
            #expect(badRole.status == .badRequest && badRole.text.contains("set_quota.quota_request.role 'a/b'"), "\(badRole.text)")
            // More than the cluster has: 409 unless forced.
            let big = #"[{"name":"cpus","type":"SCALAR","scalar":{"value":3}}]"#
            let tooBig = try await setQuota("batch", big)
            #expect(tooBig.status == .conflict && tooBig.text.contains("force"), "\(tooBig.text)")
            #expect(try await setQuota("batch", big, force: true).status == .ok)

            #expect(try await Self.call(client, #"{"type":"REMOVE_QUOTA","remove_quota":{"role":"batch"}}"#).status == .ok)
            let gone = try await Self.call(client, #"{"type":"REMOVE_QUOTA","remove_quota":{"role":"batch"}}"#)
            #expect(gone.status == .badRequest && gone.text.contains("remove_quota.role: role 'batch' has no quota set"), "\(gone.text)")
            #expect(await fixture.master.quotaStatus().infos.map(\.role) == ["analytics"])
        }
    }

    @Test("Mesos 1.0's /quota and /weights endpoints: GET, POST and DELETE /quota/ROLE, GET and PUT /weights")
    func legacyQuotaAndWeights() async throws {
        let fixture = MasterFixture()
        _ = try await fixture.registerAgent("cpus:4;mem:2048")
        try await MasterRoutesTests.application(fixture).test(.router) { client in
            let request = #"{"role":"web","guarantee":[{"name":"cpus","type":"SCALAR","scalar":{"value":1}}]}"#
            #expect(try await Self.request(client, .post, "/quota", request).status == .ok)
            let listed = try await Self.request(client, .get, "/master/quota")
            #expect(listed.text.contains(#""role":"web""#), "\(listed.text)")
            let bad = try await Self.request(client, .post, "/quota", #"{"role":"x","guarantee":[{"name":"cpus","type":"SCALAR","scalar":{"value":-2}}]}"#)
            #expect(bad.status == .badRequest && bad.text.contains("quota_request.guarantee[0].scalar.value must be >= 0"), "\(bad.text)")
            #expect(try await Self.request(client, .delete, "/quota/web").status == .ok)
            #expect(try await Self.request(client, .delete, "/master/quota/web").status == .badRequest)
            #expect(await fixture.master.quotaStatus().infos.isEmpty)

            #expect(try await Self.request(client, .put, "/weights", #"[{"role":"web","weight":2.5}]"#).status == .ok)
            #expect(try await Self.request(client, .get, "/weights").text == #"[{"role":"web","weight":2.5}]"#)
            let zero = try await Self.request(client, .put, "/master/weights", #"[{"role":"web","weight":0}]"#)
            #expect(zero.status == .badRequest && zero.text.contains("weights[0].weight must be > 0"), "\(zero.text)")
        }
    }

    @Test("UPDATE_WEIGHTS changes GET_WEIGHTS, GET_ROLES, /roles and the allocator; a bad weight changes nothing")
    func updateWeights() async throws {
        let fixture = MasterFixture { $0.roleWeights = ["ops": 3] }
        try await MasterRoutesTests.application(fixture).test(.router) { client in
            let update = #"{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"web","weight":2},{"role":"ops","weight":1.5}]}}"#
            #expect(try await Self.call(client, update).status == .ok)
            let weights = try MesosJSON.decode(OperatorResponse.self, from: Data(try await Self.call(client, #"{"type":"GET_WEIGHTS"}"#).text.utf8))
            #expect(weights.getWeights?.weightInfos == [WeightInfo(weight: 1.5, role: "ops"), WeightInfo(weight: 2, role: "web")])
            let roles = try MesosJSON.decode(OperatorResponse.self, from: Data(try await Self.call(client, #"{"type":"GET_ROLES"}"#).text.utf8))
            #expect(roles.getRoles?.roles.first { $0.name == "web" }?.weight == 2)
            #expect(try await Self.request(client, .get, "/roles").text.contains(#""weight":2"#))
            #expect(await fixture.master.allocator.weight(of: "web") == 2)

            let bad = #"{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"web","weight":5},{"role":"ops","weight":-1}]}}"#
            let refused = try await Self.call(client, bad)
            #expect(refused.status == .badRequest)
            #expect(refused.text.contains("update_weights.weight_infos[1].weight must be > 0"), "\(refused.text)")
            #expect(await fixture.master.allocator.weight(of: "web") == 2)
            let noRole = try await Self.call(client, #"{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"weight":2}]}}"#)
            #expect(noRole.status == .badRequest && noRole.text.contains("update_weights.weight_infos[0].role must be set"), "\(noRole.text)")
        }
    }

    @Test("GET_METRICS lists /metrics/snapshot's gauges as name/value pairs; a negative timeout is a 400")
    func getMetrics() async throws {
        let fixture = MasterFixture()
        _ = try await fixture.registerAgent()
        try await MasterRoutesTests.application(fixture).test(.router) { client in
            let reply = try await Self.call(client, #"{"type":"GET_METRICS","get_metrics":{"timeout":{"nanoseconds":5000000000}}}"#)
            #expect(reply.status == .ok)
            let metrics = try MesosJSON.decode(OperatorResponse.self, from: Data(reply.text.utf8)).getMetrics?.metrics ?? []
            let snapshot = try JSONSerialization.jsonObject(with: Data(try await Self.request(client, .get, "/metrics/snapshot").text.utf8)) as? [String: Double]
            #expect(Set(metrics.map(\.name)) == Set(snapshot?.keys ?? [:].keys))
            #expect(metrics.map(\.name) == metrics.map(\.name).sorted(), "listed by name")
            #expect(metrics.first { $0.name == "master/slaves_active" }?.value == 1)
            #expect(metrics.first { $0.name == "master/cpus_total" }?.value == 2)
            let negative = try await Self.call(client, #"{"type":"GET_METRICS","get_metrics":{"timeout":{"nanoseconds":-1}}}"#)
            #expect(negative.status == .badRequest && negative.text.contains("get_metrics.timeout.nanoseconds"), "\(negative.text)")
        }
    }
}
