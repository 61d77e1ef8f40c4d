import Logging
import CapstanAPI
import CapstanCore
import CapstanHTTP
import Foundation
import HTTPTypes
import Hummingbird

/// The master's HTTP endpoints: scheduler API, operator API, the internal agent protocol and legacy JSON.
enum MasterRoutes {
    static let streamIDHeader = HTTPField.Name("Mesos-Stream-Id")!

    static func register(on router: Router<BasicRequestContext>, master: Master) {
        let authentication = master.configuration.authentication
        for schedulerPath in ["api/v1/scheduler", "master/api/v1/scheduler"] {
            router.post(RouterPath(schedulerPath)) { request, _ in
                try await answering {
                    // With --authenticate-frameworks every call needs credentials (401 before anything is read).
                    let principal = try authentication.principal(
                        authorization: request.headers[.authorization], required: authentication.authenticateFrameworks)
                    try request.requireJSONAccepted()
                    let call = try await request.decodeMesos(SchedulerCall.self)
                    if call.type == .subscribe {
                        guard let subscribe = call.subscribe else {
                            throw CapstanError(.invalidArgument, "Expecting 'subscribe' to be present")
                        }
                        let (streamID, events) = try await master.subscribe(
                            subscribe, callFrameworkID: call.frameworkID, principal: principal)
                        let frameworkID = await master.frameworkID(forStream: streamID)
                        return RecordIOStream.response(subscriber: events, headers: [streamIDHeader: streamID]) {
                            if let frameworkID { await master.schedulerDisconnected(frameworkID, streamID: streamID) }
                        }
                    }
                    try await master.handle(call, streamID: request.headers[streamIDHeader], principal: principal)
                    return Response.accepted
                }
            }
        }

        // libprocess routes a request to the longest matching path prefix, so Mesos also answers the operator API on
        // /api/v1/operator (where pymesos's operator drivers post).
        for path in ["api/v1", "api/v1/operator", "master/api/v1"] {
            router.post(RouterPath(path)) { request, _ in
                try await answering {
                    try request.requireJSONAccepted()
                    let call = try await request.decodeMesos(OperatorCall.self)
                    if call.type == .subscribe {
                        let (key, events) = await master.subscribeOperator()
                        return RecordIOStream.response(subscriber: events) { await master.unsubscribeOperator(key) }
                    }
                    if call.type == .teardown {
                        try await master.teardownByOperator(call.teardown)
                        return Response(status: .ok)
                    }
                    if let type = call.type, Master.commandCalls.contains(type) {
                        try await master.operatorCommand(call)
                        return Response(status: .ok)
                    }
                    if let type = call.type, Master.maintenanceChanges.contains(type) {
                        try await master.changeMaintenance(call)
                        return Response(status: .ok)
                    }
                    if let type = call.type, [.reserveResources, .unreserveResources, .createVolumes, .destroyVolumes].contains(type) {
                        try await master.operateResources(call)
                        return Response(status: .accepted)
                    }
                    return try Response.mesosJSON(try await master.operatorCall(call))
                }
            }
        }

        // Internal agent → master calls: signed with an agent credential (401 otherwise, before anything is decoded).
        let agentCredentials = master.configuration.authentication.agentCredentials
        router.post(RouterPath(InternalPath.register)) { request, _ in
            try await answering {
                let (message, principal) = try await request.decodeSignedMesos(RegisterAgentMessage.self, credentials: agentCredentials)
                return try Response.mesosJSON(try await master.registerAgent(message, principal: principal))
            }
        }
        router.post(RouterPath(InternalPath.heartbeat)) { request, _ in
            try await answering {
                let (message, principal) = try await request.decodeSignedMesos(AgentHeartbeatMessage.self, credentials: agentCredentials)
                try await master.heartbeat(message, principal: principal)
                return Response(status: .ok)
            }
        }
        router.post(RouterPath(InternalPath.statusUpdate)) { request, _ in
            try await answering {
                let (message, principal) = try await request.decodeSignedMesos(StatusUpdateMessage.self, credentials: agentCredentials)
                try await master.statusUpdate(message, principal: principal)
                return Response.accepted
            }
        }
        router.post(RouterPath(InternalPath.executorMessage)) { request, _ in
            try await answering {
                let (message, principal) = try await request.decodeSignedMesos(FrameworkExecutorMessage.self, credentials: agentCredentials)
                try await master.executorMessage(message, principal: principal)
                return Response.accepted
            }
        }

        // Mesos' master JSON endpoints, which its web UI, CLI and monitoring scripts read: each under the master's
        // process name too (`/master/state`), and wrapped for a `jsonp` callback where Mesos takes one.
        for prefix in ["", "master/"] {
            for suffix in ["", ".json"] {
                router.get(RouterPath(prefix + "state" + suffix)) { request, _ in
                    try await answering { try Response.mesosJSON(await master.legacyState(), jsonp: request) }
                }
                router.get(RouterPath(prefix + "tasks" + suffix)) { request, _ in
                    try await answering { try await tasks(request, master: master) }
                }
                router.get(RouterPath(prefix + "roles" + suffix)) { request, _ in
                    try await answering { try Response.mesosJSON(await master.legacyRoles(), jsonp: request) }
                }
            }
            router.get(RouterPath(prefix + "slaves")) { request, _ in
                try await answering { try Response.mesosJSON(await master.legacySlavesDocument(), jsonp: request) }
            }
            router.get(RouterPath(prefix + "frameworks")) { request, _ in
                try await answering { try Response.mesosJSON(await master.legacyFrameworksDocument(), jsonp: request) }
            }
            router.get(RouterPath(prefix + "state-summary")) { request, _ in
                try await answering { try Response.mesosJSON(await master.legacyStateSummary(), jsonp: request) }
            }
            router.get(RouterPath(prefix + "flags")) { request, _ in
                try await answering { try Response.mesosJSON(["flags": await master.legacyFlags()], jsonp: request) }
            }
            // Mesos' /redirect: on the leader, a redirect to itself (followers are redirected by the middleware).
            router.get(RouterPath(prefix + "redirect")) { request, _ in
                let host = request.head.authority ?? "127.0.0.1"
                return Response(status: .temporaryRedirect, headers: [.location: "//\(host)"])
            }
        }
        router.get("master/health") { _, _ in Response(status: .ok) }
        router.get("metrics/snapshot") { request, _ in
            try await answering { try Response.mesosJSON(await master.metricsSnapshot(), jsonp: request) }
        }
        LegacyQuotaRoutes.register(on: router, master: master)
        MaintenanceRoutes.register(on: router, master: master)
    }
}

extension MasterRoutes {
    /// `/tasks`: `limit` (default 100), `offset`, `order` (`asc`, or `des` by default), and `jsonp`.
    static func tasks(_ request: Request, master: Master) async throws -> Response {
        let query = request.uri.queryParameters
        func integer(_ name: String, default value: Int) throws(CapstanError) -> Int {
            guard let text = query.get(name) else { return value }
            guard let number = Int(text), number >= 0 else {
                throw CapstanError(.invalidArgument, "\(name) '\(text)' must be a non-negative integer")
            }
            return number
        }
        let limit = try integer("limit", default: 100)
        let offset = try integer("offset", default: 0)
        let order = query.get("order") ?? "des"
        guard order == "asc" || order == "des" else {
            throw CapstanError(.invalidArgument, "order '\(order)' must be asc or des")
        }
        return try Response.mesosJSON(
            await master.legacyTasksDocument(limit: limit, offset: offset, ascending: order == "asc"), jsonp: request)
    }
}

extension Master {
    /// The framework that owns a scheduler stream.
    func frameworkID(forStream streamID: String) -> FrameworkID? {
        frameworks.first { $0.value.connection?.streamID == streamID }?.key
    }
}
