import Logging
import CapstanAPI
import CapstanAuth
import CapstanCore
import CapstanHTTP
import Foundation
import HTTPTypes
import Hummingbird

/// The agent's HTTP endpoints: executor API, agent operator API, sandbox files, and the internal master protocol.
enum AgentRoutes {
    static func register(
        on router: Router<BasicRequestContext>, agent: Agent, files: SandboxFiles, configuration: AgentConfiguration
    ) throws {
        // The master's calls are signed with this agent's own credential; anything else is a 401. A credential that
        // is not valid stops the start rather than turning the check off.
        let masterCredentials = try configuration.credential.map { try CredentialSet([$0]) }

        router.post("api/v1/executor") { request, _ in
            try await answering {
                try request.requireJSONAccepted()
                let call = try await request.decodeMesos(ExecutorCall.self)
                if configuration.authenticateExecutors {
                    try ExecutorToken.verify(
                        authorization: request.headers[.authorization], key: agent.executorTokenKey,
                        frameworkID: call.frameworkID.value, executorID: call.executorID.value)
                }
                if call.type == .subscribe {
                    let events = try await agent.subscribeExecutor(call)
                    return RecordIOStream.response(subscriber: events) {
                        await agent.executorDisconnected(call.frameworkID, call.executorID)
                    }
                }
                try await agent.executorCall(call)
                return Response.accepted
            }
        }
        // libprocess routes a request to the longest matching path prefix, so Mesos also answers the operator API on
        // /api/v1/operator (where pymesos's operator drivers post).
        for path in ["api/v1", "api/v1/operator"] {
            router.post(RouterPath(path)) { request, _ in
                try await answering {
                    try request.requireJSONAccepted()
                    let call = try await request.decodeMesos(AgentOperatorCall.self)
                    if call.type == .setLoggingLevel {
                        try await agent.setLoggingLevel(call.setLoggingLevel)
                        return Response(status: .ok)
                    }
                    return try Response.mesosJSON(try await agent.operatorCall(call))
                }
            }
        }

        // Mesos 1.0's agent JSON endpoints: `/state` and `/flags` of the agent process (also as `/slave(1)/...`, and
        // `state.json`), the resource monitor's `/monitor/statistics`, `/containers`, and `/metrics/snapshot`.
        for prefix in ["", "slave(1)/"] {
            for suffix in ["", ".json"] {
                router.get(RouterPath(prefix + "state" + suffix)) { request, _ in
                    try await answering { try Response.mesosJSON(await agent.legacyState(), jsonp: request) }
                }
            }
            router.get(RouterPath(prefix + "flags")) { request, _ in
                try await answering { try Response.mesosJSON(["flags": await agent.legacyFlags()], jsonp: request) }
            }
            router.get(RouterPath(prefix + "containers")) { request, _ in
                try await answering { try Response.mesosJSON(await agent.containersDocument(), jsonp: request) }
            }
        }
        router.get("slave(1)/health") { _, _ in Response(status: .ok) }
        for path in ["monitor/statistics", "monitor/statistics.json"] {
            router.get(RouterPath(path)) { request, _ in
                try await answering { try Response.mesosJSON(await agent.monitorStatistics(), jsonp: request) }
            }
        }
        router.get("metrics/snapshot") { request, _ in
            try await answering { try Response.mesosJSON(await agent.metricsSnapshot(), jsonp: request) }
        }

        // Mesos serves the files API under its process ID too (`/slave(1)/files/...`), which is where its web UI reads.
        for prefix in ["", "slave(1)/"] {
            for suffix in ["", ".json"] {
                router.get(RouterPath(prefix + "files/browse" + suffix)) { request, _ in
                    try await answering {
                        try Response.mesosJSON(try await files.browse(request.uri.queryParameters.get("path") ?? ""))
                    }
                }
                router.get(RouterPath(prefix + "files/read" + suffix)) { request, _ in
                    try await answering {
                        let query = request.uri.queryParameters
                        let offset = try integer(query.get("offset"), name: "offset") ?? -1
                        let length = try integer(query.get("length"), name: "length")
                        return try Response.mesosJSON(try await files.read(query.get("path") ?? "", offset: offset, length: length))
                    }
                }
                router.get(RouterPath(prefix + "files/debug" + suffix)) { _, _ in
                    try await answering { try Response.mesosJSON(await files.debug()) }
                }
            }
            router.get(RouterPath(prefix + "files/download")) { request, _ in
                try await answering { try await download(files, path: request.uri.queryParameters.get("path") ?? "") }
            }
            router.get(RouterPath(prefix + "files/download.json")) { request, _ in
                try await answering { try await download(files, path: request.uri.queryParameters.get("path") ?? "") }
            }
        }

        router.post(RouterPath(InternalPath.runTask)) { request, _ in
            try await answering {
                try await agent.runTask(try await request.decodeSignedMesos(RunTaskMessage.self, credentials: masterCredentials).message)
                return Response.accepted
            }
        }
        router.post(RouterPath(InternalPath.killTask)) { request, _ in
            try await answering {
                await agent.killTask(try await request.decodeSignedMesos(KillTaskMessage.self, credentials: masterCredentials).message)
                return Response.accepted
            }
        }
        router.post(RouterPath(InternalPath.acknowledge)) { request, _ in
            try await answering {
                await agent.acknowledge(try await request.decodeSignedMesos(AcknowledgeMessage.self, credentials: masterCredentials).message)
                return Response.accepted
            }
        }
        router.post(RouterPath(InternalPath.shutdownFramework)) { request, _ in
            try await answering {
                await agent.shutdownFramework(try await request.decodeSignedMesos(ShutdownMessage.self, credentials: masterCredentials).message.frameworkID)
                return Response.accepted
            }
        }
        router.post(RouterPath(InternalPath.shutdownExecutor)) { request, _ in
            try await answering {
                let message = try await request.decodeSignedMesos(ShutdownMessage.self, credentials: masterCredentials).message
                guard let executorID = message.executorID else {
                    throw CapstanError(.invalidArgument, "Expecting 'executor_id' to be present")
                }
                await agent.shutdownExecutor(message.frameworkID, executorID)
                return Response.accepted
            }
        }
        router.post(RouterPath(InternalPath.checkpointResources)) { request, _ in
            try await answering {
                try await agent.checkpointResources(try await request.decodeSignedMesos(CheckpointResourcesMessage.self, credentials: masterCredentials).message)
                return Response.accepted
            }
        }
        router.post(RouterPath(InternalPath.frameworkMessage)) { request, _ in
            try await answering {
                await agent.frameworkMessage(try await request.decodeSignedMesos(FrameworkExecutorMessage.self, credentials: masterCredentials).message)
                return Response.accepted
            }
        }
    }

    /// `/files/download`: the file's bytes (as large as it was when opened) as an attachment named after it.
    static func download(_ files: SandboxFiles, path: String) async throws -> Response {
        let file = try await files.download(path)
        let chunk = 64 << 10
        let body = ResponseBody(contentLength: Int(file.size)) { writer in
            var offset: Int64 = 0
            while offset < file.size {
                var buffer = try await file.read(at: offset, count: Int(min(Int64(chunk), file.size - offset)))
                if buffer.readableBytes == 0 {  // the file shrank: pad to the announced length
                    buffer.writeRepeatingByte(0, count: Int(min(Int64(chunk), file.size - offset)))
                }
                offset += Int64(buffer.readableBytes)
                try await writer.write(buffer)
            }
            try await writer.finish(nil)
        }
        let name = file.name.replacingOccurrences(of: "\"", with: "_")
        return Response(
            status: .ok,
            headers: [.contentType: "application/octet-stream", .contentDisposition: "attachment; filename=\"\(name)\""],
            body: body)
    }

    /// A query parameter as an integer (nil when absent); 400 when it is not one, as Mesos answers.
    static func integer(_ text: String?, name: String) throws -> Int64? {
        guard let text else { return nil }
        guard let value = Int64(text) else { throw CapstanError(.invalidArgument, "Failed to parse '\(name)': '\(text)' is not an integer") }
        return value
    }
}
