import CapstanAPI
import CapstanAPIClient
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    @Suite("Scheduler API flow")
    struct SchedulerFlowTests {
        @Test("A command task goes STARTING, RUNNING, FINISHED and each update is acknowledged")
        func commandTaskRunsToCompletion() async throws {
            try await TestCluster.with { cluster in
                let scheduler = try await EventRecorder.subscribe(cluster.master)
                let offers = try await scheduler.nextOffers()
                let offer = try #require(offers.first)
                #expect(try Resources(mesos: offer.resources).cpus == 2)
                let task = TestTasks.command("hello", "echo hello-from-task; exit 0", agent: offer.agentID)
                try await scheduler.launch([task], on: [offer])

                let starting = try await scheduler.update("hello", .taskStarting)
                #expect(starting.agentID == offer.agentID)
                #expect(starting.uuid != nil)
                try await scheduler.update("hello", .taskRunning)
                let finished = try await scheduler.update("hello", .taskFinished)
                #expect(finished.source == .sourceExecutor)

                // The task's stdout is in its sandbox and readable through /files.
                let agent = OperatorClient(cluster.agents[0].endpoint)
                let state = try await agent.agentCall(.getTasks)
                let done = try #require(state.getTasks?.completedTasks.first { $0.taskID == "hello" } ?? state.getTasks?.terminatedTasks.first { $0.taskID == "hello" })
                #expect(done.state == .taskFinished)

                // The master forgets the task into completed_tasks once the terminal update is acknowledged.
                try await eventually("task completed on the master") {
                    let tasks = try await OperatorClient(cluster.master).call(.getTasks).getTasks
                    return tasks?.completedTasks.contains { $0.taskID == "hello" && $0.state == .taskFinished } == true
                }
                await scheduler.disconnect()
            }
        }

        @Test("A failing command reports TASK_FAILED with the exit code in the message")
        func failingCommandReportsExitCode() async throws {
            try await TestCluster.with { cluster in
                let scheduler = try await EventRecorder.subscribe(cluster.master)
                let offer = try #require(try await scheduler.nextOffers().first)
                try await scheduler.launch([TestTasks.command("fails", "exit 3", agent: offer.agentID)], on: [offer])
                let failed = try await scheduler.update("fails", .taskFailed)
                #expect(failed.message?.contains("status 3") == true)
                await scheduler.disconnect()
            }
        }

        @Test("KILL ends a task with TASK_KILLED within its grace period")
        func killEndsTaskWithinGrace() async throws {
            try await TestCluster.with { cluster in
                let scheduler = try await EventRecorder.subscribe(cluster.master)
                let offer = try #require(try await scheduler.nextOffers().first)
                // The task ignores SIGTERM, so only the SIGKILL after the 1 s grace period ends it.
                let task = TestTasks.command("stubborn", "trap '' TERM; echo trapped; while true; do sleep 0.1; done", agent: offer.agentID, grace: .seconds(1))
                try await scheduler.launch([task], on: [offer])
                try await scheduler.update("stubborn", .taskRunning)
                // TASK_RUNNING means the shell started, not that it has run `trap` yet: wait until it says so.
                let sandbox = try #require(OperatorAPITests.sandbox(of: "stubborn", workDir: cluster.agents[0].workDir), "sandbox of the task")
                let agent = OperatorClient(cluster.agents[0].endpoint)
                try await eventually("the task ignores SIGTERM") {
                    try await agent.get("/files/read?path=\(sandbox)/stdout&offset=0").text.contains("trapped")
                }
                let start = ContinuousClock.now
                // KILL without agent_id: the master finds the task.
                try await scheduler.send(SchedulerCall(type: .kill, kill: .init(taskID: "stubborn")))
                let killed = try await scheduler.update("stubborn", .taskKilled, timeout: .seconds(8))
                let elapsed = ContinuousClock.now - start
                #expect(killed.state == .taskKilled)
                #expect(elapsed >= .milliseconds(900), "the grace period must be honoured before SIGKILL")
                #expect(elapsed < .seconds(6))
                await scheduler.disconnect()
            }
        }

        @Test("RECONCILE answers the latest state, explicitly and implicitly, and TASK_LOST for unknown tasks")
        func reconcileReturnsLatestStates() async throws {
            try await TestCluster.with { cluster in
                let scheduler = try await EventRecorder.subscribe(cluster.master)
                let offer = try #require(try await scheduler.nextOffers().first)
                try await scheduler.launch([TestTasks.command("sleeper", "sleep 30", agent: offer.agentID)], on: [offer])
                try await scheduler.update("sleeper", .taskRunning)

                try await scheduler.send(
                    SchedulerCall(type: .reconcile, reconcile: .init(tasks: [.init(taskID: "sleeper"), .init(taskID: "nobody")])))
                let known = try await scheduler.next("reconciliation of sleeper") {
                    $0.update?.status.taskID == "sleeper" && $0.update?.status.reason == .reasonReconciliation
                }
                #expect(known.update?.status.state == .taskRunning)
                #expect(known.update?.status.uuid == nil, "reconciliation updates need no acknowledgement")
                #expect(known.update?.status.agentID == offer.agentID)
                let unknown = try await scheduler.any("reconciliation of nobody") { $0.update?.status.taskID == "nobody" }
                #expect(unknown.update?.status.state == .taskLost)

                try await scheduler.send(SchedulerCall(type: .reconcile, reconcile: .init(tasks: [])))
                let implicit = try await scheduler.next("implicit reconciliation") {
                    $0.update?.status.taskID == "sleeper" && $0.update?.status.reason == .reasonReconciliation
                }
                #expect(implicit.update?.status.state == .taskRunning)
                await scheduler.disconnect()
            }
        }

        @Test("A framework that re-subscribes with its framework_id within failover_timeout keeps its tasks")
        func failoverKeepsTasks() async throws {
            try await TestCluster.with { cluster in
                let first = try await EventRecorder.subscribe(cluster.master, failoverTimeout: 60)
                let offer = try #require(try await first.nextOffers().first)
                try await first.launch([TestTasks.command("survivor", "sleep 60", agent: offer.agentID)], on: [offer])
                try await first.update("survivor", .taskRunning)
                await first.disconnect()
                try await Task.sleep(for: .milliseconds(300))

                let second = try await EventRecorder.subscribe(cluster.master, failoverTimeout: 60, id: first.frameworkID)
                #expect(second.frameworkID == first.frameworkID)
                try await second.send(SchedulerCall(type: .reconcile, reconcile: .init(tasks: [])))
                let status = try await second.next("survivor still running") { $0.update?.status.taskID == "survivor" }
                #expect(status.update?.status.state == .taskRunning)
                let tasks = try await OperatorClient(cluster.master).call(.getTasks).getTasks
                #expect(tasks?.tasks.contains { $0.taskID == "survivor" && $0.state == .taskRunning } == true)
                await second.disconnect()
            }
        }

        @Test("A framework whose failover_timeout passes is removed and its tasks are killed")
        func failoverTimeoutKillsTasks() async throws {
            try await TestCluster.with { cluster in
                let scheduler = try await EventRecorder.subscribe(cluster.master, failoverTimeout: 0.5)
                let offer = try #require(try await scheduler.nextOffers().first)
                try await scheduler.launch([TestTasks.command("doomed", "sleep 60", agent: offer.agentID)], on: [offer])
                try await scheduler.update("doomed", .taskRunning)
                await scheduler.disconnect()
                let agent = OperatorClient(cluster.agents[0].endpoint)
                try await eventually("the agent killed the task") {
                    let tasks = try await agent.agentCall(.getTasks).getTasks
                    return tasks?.launchedTasks.contains { $0.taskID == "doomed" } == false
                }
                try await eventually("framework listed as completed") {
                    let frameworks = try await OperatorClient(cluster.master).call(.getFrameworks).getFrameworks
                    return frameworks?.completedFrameworks.contains { $0.frameworkInfo.id == scheduler.frameworkID } == true
                }
            }
        }

        @Test("DECLINE with refuse_seconds keeps the agent out of that framework's offers for that long")
        func declineFilterHoldsForRefuseSeconds() async throws {
            try await TestCluster.with { cluster in
                let scheduler = try await EventRecorder.subscribe(cluster.master)
                let offer = try #require(try await scheduler.nextOffers().first)
                let declined = ContinuousClock.now
                try await scheduler.send(
                    SchedulerCall(type: .decline, decline: .init(offerIDs: [offer.id], filters: Filters(refuseSeconds: 2))))
                let again = try #require(try await scheduler.nextOffers(timeout: .seconds(8)).first)
                let waited = ContinuousClock.now - declined
                #expect(again.agentID == offer.agentID)
                #expect(waited >= .seconds(1.9), "re-offered after \(waited), before refuse_seconds passed")
                #expect(waited < .seconds(5))
                await scheduler.disconnect()
            }
        }

        @Test("REVIVE clears a decline filter; SUPPRESS stops offers")
        func reviveAndSuppress() async throws {
            try await TestCluster.with { cluster in
                let scheduler = try await EventRecorder.subscribe(cluster.master)
                let offer = try #require(try await scheduler.nextOffers().first)
                try await scheduler.send(
                    SchedulerCall(type: .decline, decline: .init(offerIDs: [offer.id], filters: Filters(refuseSeconds: 3600))))
                try await Task.sleep(for: .milliseconds(500))
                try await scheduler.send(SchedulerCall(type: .revive))
                let revived = try await scheduler.nextOffers(timeout: .seconds(3))
                #expect(!revived.isEmpty)
                try await scheduler.send(SchedulerCall(type: .suppress))
                try await scheduler.send(
                    SchedulerCall(type: .decline, decline: .init(offerIDs: revived.map(\.id), filters: Filters(refuseSeconds: 0))))
                await #expect(throws: (any Error).self) { _ = try await scheduler.nextOffers(timeout: .seconds(1.5)) }
                await scheduler.disconnect()
            }
        }

        @Test("TEARDOWN removes the framework and kills its tasks")
        func teardownKillsTasks() async throws {
            try await TestCluster.with { cluster in
                let scheduler = try await EventRecorder.subscribe(cluster.master, failoverTimeout: 600)
                let offer = try #require(try await scheduler.nextOffers().first)
                try await scheduler.launch([TestTasks.command("t1", "sleep 60", agent: offer.agentID)], on: [offer])
                try await scheduler.update("t1", .taskRunning)
                try await scheduler.send(SchedulerCall(type: .teardown))
                let agent = OperatorClient(cluster.agents[0].endpoint)
                try await eventually("the agent killed the task") {
                    try await agent.agentCall(.getTasks).getTasks?.launchedTasks.isEmpty == true
                }
                let frameworks = try await OperatorClient(cluster.master).call(.getFrameworks).getFrameworks
                #expect(frameworks?.frameworks.isEmpty == true)
            }
        }
    }
}
