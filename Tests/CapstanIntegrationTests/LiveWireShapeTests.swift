import CapstanAPI
import CapstanAPIClient
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

/// The JSON shape of a document: every key path (arrays collapsed to `[]`) with the JSON type found there.
struct JSONShape {
    var types: [String: String] = [:]

    init(_ data: Data) throws {
        walk(try JSONSerialization.jsonObject(with: data), path: "")
    }

    private mutating func walk(_ value: Any, path: String) {
        switch value {
        case let object as [String: Any]:
            types[path] = "object"
            for (key, child) in object { walk(child, path: path.isEmpty ? key : path + "." + key) }
        case let array as [Any]:
            types[path] = "array"
            for child in array { walk(child, path: path + "[]") }
        case let number as NSNumber:
            types[path] = String(cString: number.objCType) == "c" ? "bool" : "number"
        case is String:
            types[path] = "string"
        default:
            types[path] = "null"
        }
    }
}

extension EndToEnd {
    /// Compares what the live master sends with the examples in the Mesos docs (Tests/CapstanAPITests/Golden).
    @Suite("Live wire shapes against the Mesos docs")
    struct LiveWireShapeTests {
        static func golden(_ name: String) throws -> JSONShape {
            let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("CapstanAPITests/Golden/\(name).json")
            return try JSONShape(try Data(contentsOf: url))
        }

        /// Fields present in both must have the same JSON type; the listed paths must be present in ours.
        static func check(_ live: Data, against name: String, required: [String], minimumOverlap: Double) throws {
            let ours = try JSONShape(live)
            let doc = try golden(name)
            for (path, type) in ours.types {
                if let docType = doc.types[path] {
                    #expect(docType == type, "\(name): '\(path)' is \(type) here but \(docType) in the Mesos docs")
                }
            }
            for path in required {
                #expect(ours.types[path] != nil, "\(name): required field '\(path)' missing; we sent \(ours.types.keys.sorted())")
            }
            // Of the doc's fields inside objects we did send, how many we send too (content the scenario lacks, like
            // completed tasks, does not count against us).
            func parent(_ path: String) -> String {
                var trimmed = Substring(path)
                while trimmed.hasSuffix("[]") { trimmed = trimmed.dropLast(2) }
                guard let dot = trimmed.lastIndex(of: ".") else { return "" }
                return String(trimmed[..<dot])
            }
            let comparable = doc.types.keys.filter { ours.types[parent($0)] != nil }
            let missing = comparable.filter { ours.types[$0] == nil }.sorted()
            let overlap = Double(comparable.count - missing.count) / Double(max(1, comparable.count))
            #expect(overlap >= minimumOverlap, "\(name): only \(Int(overlap * 100))% of the doc's fields are present; missing \(missing)")
        }

        @Test("SUBSCRIBED, OFFERS and UPDATE as sent on a live stream match the docs' shapes")
        func schedulerEventsMatchDocs() async throws {
            try await TestCluster.with { cluster in
                let subscribe = SchedulerCall(
                    type: .subscribe, subscribe: .init(frameworkInfo: FrameworkInfo(user: "root", name: "shape")))
                let opened = try await RecordIOStreamReader.open(
                    url: cluster.master.url + "/api/v1/scheduler", body: try MesosJSON.encode(subscribe))
                let streamID = try #require(opened.header("Mesos-Stream-Id"))
                var iterator = opened.records.makeAsyncIterator()
                let subscribed = try #require(try await iterator.next())
                try Self.check(
                    subscribed, against: "scheduler-event-subscribed",
                    required: ["type", "subscribed.framework_id.value", "subscribed.heartbeat_interval_seconds"], minimumOverlap: 1)

                var offers: Data?
                while offers == nil, let record = try await iterator.next() {
                    if try MesosJSON.decode(SchedulerEvent.self, from: record).type == .offers { offers = record }
                }
                let offersData = try #require(offers)
                try Self.check(
                    offersData, against: "scheduler-event-offers",
                    required: [
                        "offers.offers[].id.value", "offers.offers[].framework_id.value", "offers.offers[].agent_id.value",
                        "offers.offers[].hostname", "offers.offers[].resources[].name", "offers.offers[].resources[].type",
                        "offers.offers[].resources[].scalar.value", "offers.offers[].resources[].ranges.range[].begin",
                    ], minimumOverlap: 0.8)

                // Launch a task through a second connection and capture its UPDATE from the stream.
                let event = try MesosJSON.decode(SchedulerEvent.self, from: offersData)
                let offer = try #require(event.offers?.offers.first)
                let frameworkID = offer.frameworkID
                let poster = JSONPoster()
                let accept = SchedulerCall(
                    type: .accept, frameworkID: frameworkID,
                    accept: .init(
                        offerIDs: [offer.id],
                        operations: [.init(type: .launch, launch: .init(taskInfos: [TestTasks.command("shape", "sleep 5", agent: offer.agentID)]))]))
                let reply = try await poster.post(accept, to: cluster.master.url + "/api/v1/scheduler", headers: [("Mesos-Stream-Id", streamID)])
                #expect(reply.status == 202)
                var update: Data?
                while update == nil, let record = try await iterator.next() {
                    if try MesosJSON.decode(SchedulerEvent.self, from: record).type == .update { update = record }
                }
                try Self.check(
                    try #require(update), against: "scheduler-event-update",
                    required: [
                        "update.status.task_id.value", "update.status.state", "update.status.source", "update.status.uuid",
                        "update.status.agent_id.value", "update.status.timestamp",
                    ], minimumOverlap: 0.7)

                // GET_STATE while the task runs.
                let state = try await poster.postRaw(#"{"type":"GET_STATE"}"#, to: cluster.master.url + "/api/v1")
                try Self.check(
                    state.body, against: "operator-response-get-state",
                    required: [
                        "type", "get_state.get_tasks.tasks[].task_id.value", "get_state.get_tasks.tasks[].state",
                        "get_state.get_frameworks.frameworks[].framework_info.name",
                        "get_state.get_agents.agents[].agent_info.hostname", "get_state.get_agents.agents[].total_resources[].name",
                    ], minimumOverlap: 0.6)
            }
        }
    }
}
