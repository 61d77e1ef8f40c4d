import CapstanAPI
import CapstanAPIClient
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    @Suite("Bad input")
    struct BadInputTests {
        @Test("Malformed JSON, unknown call types, missing fields and bad stream IDs get 4xx with a clear message")
        func malformedCallsAreRejected() async throws {
            try await TestCluster.with { cluster in
                let master = OperatorClient(cluster.master)
                let notJSON = try await master.raw(path: "/api/v1/scheduler", body: "{not json")
                #expect(notJSON.status == 400)
                #expect(notJSON.text.contains("not valid JSON"))

                let unknownType = try await master.raw(path: "/api/v1/scheduler", body: #"{"type":"FLY"}"#)
                #expect(unknownType.status == 400)
                #expect(unknownType.text.contains("'type'"), "message must name the field: \(unknownType.text)")

                let missingID = try await master.raw(
                    path: "/api/v1/scheduler",
                    body: #"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n","id":{}}}}"#)
                #expect(missingID.status == 400)
                #expect(missingID.text.contains("subscribe.framework_info.id"), "\(missingID.text)")

                let noFramework = try await master.raw(path: "/api/v1/scheduler", body: #"{"type":"REVIVE"}"#)
                #expect(noFramework.status == 400)
                #expect(noFramework.text.contains("framework_id"))

                let unknownFramework = try await master.raw(
                    path: "/api/v1/scheduler", body: #"{"type":"REVIVE","framework_id":{"value":"nope"}}"#,
                    headers: [("Mesos-Stream-Id", "x")])
                #expect(unknownFramework.status == 404)

                let scheduler = try await EventRecorder.subscribe(cluster.master)
                let wrongStream = try await master.raw(
                    path: "/api/v1/scheduler", body: #"{"type":"REVIVE","framework_id":{"value":"\#(scheduler.frameworkID.value)"}}"#,
                    headers: [("Mesos-Stream-Id", "not-the-stream")])
                #expect(wrongStream.status == 400)
                #expect(wrongStream.text.contains("stream ID"))

                let wrongType = try await master.raw(path: "/api/v1", body: #"{"type":"GET_STATE"}"#, contentType: "text/plain")
                #expect(wrongType.status == 415)

                let operatorUnknown = try await master.raw(path: "/api/v1", body: #"{"type":"GET_EVERYTHING"}"#)
                #expect(operatorUnknown.status == 400)
                await scheduler.disconnect()
            }
        }

        @Test("A LAUNCH asking for more than the offer, a reused task ID, a stale offer: TASK_ERROR or TASK_LOST with a reason")
        func invalidLaunchesBecomeTaskErrors() async throws {
            try await TestCluster.with { cluster in
                let scheduler = try await EventRecorder.subscribe(cluster.master)
                let offer = try #require(try await scheduler.nextOffers().first)
                let greedy = TestTasks.command("greedy", "true", agent: offer.agentID, cpus: 64)
                let first = TestTasks.command("twin", "sleep 30", agent: offer.agentID)
                let second = TestTasks.command("twin", "sleep 30", agent: offer.agentID)
                try await scheduler.launch([greedy, first, second], on: [offer])

                let error = try await scheduler.update("greedy", .taskError)
                #expect(error.reason == .reasonTaskInvalid)
                #expect(error.source == .sourceMaster)
                #expect(error.message?.contains("more resources") == true, "\(error.message ?? "")")
                try await scheduler.update("twin", .taskRunning)
                let duplicate = try await scheduler.update("twin", .taskError)
                #expect(duplicate.message?.contains("duplicate ID") == true)

                // The same offer again: it was used up.
                try await scheduler.launch([TestTasks.command("late", "true", agent: offer.agentID)], on: [offer])
                let stale = try await scheduler.update("late", .taskLost)
                #expect(stale.reason == .reasonInvalidOffers)
                #expect(stale.message?.contains("no longer valid") == true)

                // A task with neither a command nor an executor.
                let next = try #require(try await scheduler.nextOffers().first)
                var empty = TestTasks.command("empty", "true", agent: next.agentID)
                empty.command = nil
                try await scheduler.launch([empty], on: [next])
                let invalid = try await scheduler.update("empty", .taskError)
                #expect(invalid.message?.contains("CommandInfo or ExecutorInfo") == true)

                // The master and agent are still healthy after all of it.
                #expect(try await OperatorClient(cluster.master).get("/health").status == 200)
                await scheduler.disconnect()
            }
        }
    }
}
