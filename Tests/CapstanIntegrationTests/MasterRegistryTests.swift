import CapstanAPI
import CapstanAPIClient
import CapstanAuth
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    /// The master's registry (SQLite under its work dir): admitted agents and frameworks outlive a master SIGKILL.
    @Suite("Master registry")
    struct MasterRegistryTests {
        @Test("After a master SIGKILL the registry's agents get --agent-reregister-timeout to come back: until then their tasks get no answer; then FAILURE and TASK_LOST")
        func agentThatDoesNotComeBackIsRemoved() async throws {
            try await TestCluster(masterFlags: ["--agent-reregister-timeout", "4secs"]).run { cluster in
                try await cluster.startMaster()
                let staying = try await cluster.startAgent(resources: "cpus:1;mem:256;disk:256;ports:[31000-31009]", attributes: "name:staying")
                let leaving = try await cluster.startAgent(resources: "cpus:1;mem:256;disk:256;ports:[31010-31019]", attributes: "name:leaving")
                let scheduler = try await EventRecorder.subscribe(cluster.master, failoverTimeout: 3600)
                var offers: [Offer] = []
                try await eventually("offers from both agents") {
                    offers += (try? await scheduler.nextOffers(timeout: .seconds(2))) ?? []
                    return Set(offers.map(\.agentID)).count == 2
                }
                let agentIDs = try await OperatorClient(cluster.master).call(.getAgents).getAgents?.agents ?? []
                let leavingID = try #require(agentIDs.first { $0.agentInfo.attributes.contains { $0.text?.value == "leaving" } }?.agentInfo.id)
                let stayingID = try #require(agentIDs.first { $0.agentInfo.id != leavingID }?.agentInfo.id)
                let onLeaving = try #require(offers.first { $0.agentID == leavingID })
                let onStaying = try #require(offers.first { $0.agentID == stayingID })
                try await scheduler.launch([TestTasks.command("far", "sleep 600", agent: leavingID)], on: [onLeaving])
                try await scheduler.launch([TestTasks.command("near", "sleep 600", agent: stayingID)], on: [onStaying])
                try await scheduler.update("far", .taskRunning, timeout: .seconds(20))
                try await scheduler.update("near", .taskRunning, timeout: .seconds(20))
                let frameworkID = scheduler.frameworkID
                await scheduler.disconnect()
                #expect(FileManager.default.fileExists(atPath: cluster.scratch + "/master/registry.sqlite"))

                // The master dies, and so does one agent for good.
                cluster.masterProcess?.crash()
                leaving.process.crash()
                try await cluster.startMaster()
                // The framework is known again before it re-subscribes: from the registry, disconnected.
                let known = try await OperatorClient(cluster.master).call(.getFrameworks).getFrameworks?.frameworks ?? []
                #expect(known.contains { $0.frameworkInfo.id == frameworkID && !$0.connected }, "\(known.map(\.frameworkInfo.id))")

                let again = try await EventRecorder.subscribe(cluster.master, failoverTimeout: 3600, id: frameworkID)
                try await eventually("the staying agent re-registered") { try await cluster.registeredAgentCount() == 1 }
                // While the leaving agent may still come back, its task gets no answer (not TASK_LOST: it may run).
                try await again.send(SchedulerCall(type: .reconcile, reconcile: .init(tasks: [.init(taskID: "far", agentID: leavingID)])))
                try await Task.sleep(for: .seconds(1))
                let early = await again.events
                #expect(early.allSatisfy { $0.update?.status.taskID != "far" }, "\(early)")

                // Past the timeout: FAILURE for the agent, and reconciliation says TASK_LOST.
                let failure = try await again.next("FAILURE", timeout: .seconds(15)) { $0.type == .failure }
                #expect(failure.failure?.agentID == leavingID)
                #expect(failure.failure?.agentID != stayingID)
                try await again.send(SchedulerCall(type: .reconcile, reconcile: .init(tasks: [.init(taskID: "far", agentID: leavingID)])))
                let lost = try await again.update("far", .taskLost, timeout: .seconds(10))
                #expect(lost.reason == .reasonAgentRemoved, "\(lost)")
                // The staying agent's task is untouched.
                let tasks = try await OperatorClient(cluster.master).call(.getTasks).getTasks?.tasks ?? []
                #expect(tasks.contains { $0.taskID == "near" && $0.state == .taskRunning }, "\(tasks.map(\.taskID))")
                await again.disconnect()

                // A third master start: the removed agent is no longer in the registry, so nothing waits for it.
                cluster.masterProcess?.crash()
                try await cluster.startMaster()
                let log = cluster.masterProcess?.log ?? ""
                try await eventually("the restarted master logs what it recovered") { (cluster.masterProcess?.log ?? "").contains("Recovered the registry") }
                #expect((cluster.masterProcess?.log ?? "").contains("agents=1"), "\(log.suffix(2000))")
            }
        }

        @Test("After a master SIGKILL the reconciler plans only once the registry's agents are back: no duplicate is launched on the agent that returned first")
        func reconcilerWaitsForRecoveringAgents() async throws {
            try await GitOpsFixture.with(resources: "cpus:1;mem:512;disk:256;ports:[31000-31009]") { f in
                let first = f.cluster.agents[0]
                try await f.commit(["web.yaml": GitOpsFixture.app("web", instances: 3)])
                try await f.startReconciler()
                try await f.waitSynced("web")
                let before = try await f.tasks(of: "web")
                #expect(before.count == 3, "\(before.map(\.taskID))")
                let firstID = try #require(before.first?.agentID)
                #expect(before.allSatisfy { $0.agentID == firstID }, "one agent so far: all three run there")
                // A second, idle agent: where a duplicate would go.
                try await f.cluster.startAgent(resources: "cpus:1;mem:512;disk:256;ports:[31010-31019]")

                // The master and the task's agent die; the master comes back, and only the idle agent re-registers.
                first.process.crash()
                f.cluster.masterProcess?.crash()
                try await f.cluster.startMaster()
                try await eventually("the idle agent re-registered") { try await f.cluster.registeredAgentCount() == 1 }
                let recovering = try await OperatorClient(f.cluster.master).call(.getAgents).getAgents?.recoveredAgents.compactMap(\.id) ?? []
                #expect(recovering == [firstID], "\(recovering)")
                try await eventually("the reconciler says it waits for the agents", timeout: .seconds(30)) {
                    f.reconciler?.log.contains("planning waits for them") == true
                }
                try await Task.sleep(for: .seconds(3))
                let meanwhile = try await f.tasks(of: "web")
                #expect(meanwhile.isEmpty, "nothing is launched while the task's agent may come back: \(meanwhile.map(\.taskID))")

                // The agent returns with its task: still exactly one, the original one.
                try await f.cluster.startAgent(workDir: first.workDir, port: first.endpoint.port)
                try await f.waitSynced("web", timeout: .seconds(30))
                try await Task.sleep(for: .seconds(2))
                let after = try await f.tasks(of: "web")
                let (kept, lost) = (Set(after.map(\.taskID)), Set(before.map(\.taskID)).subtracting(after.map(\.taskID)))
                print(
                    "fault master-sigkill-sqlite: tasks before \(before.count), after \(after.count), lost \(lost.count), "
                        + "duplicated \(kept.subtracting(before.map(\.taskID)).count), launched while its agent was away \(meanwhile.count)")
                #expect(after.count == before.count && Set(after.map(\.taskID)) == Set(before.map(\.taskID)), "\(after.map(\.taskID)) vs \(before.map(\.taskID))")
                #expect(after.allSatisfy { $0.agentID == firstID })
            }
        }

        @Test("A framework ID registered by one principal cannot be taken by another after a master restart")
        func principalBindingSurvivesARestart() async throws {
            try await TwoPrincipals.with { principals in
                let (alice, bob) = (principals.alice, principals.bob)
                try await TestCluster.with(masterFlags: principals.masterFlags) { cluster in
                    let owner = try await EventRecorder.subscribe(cluster.master, failoverTimeout: 3600, authorization: alice)
                    _ = try await owner.nextOffers()
                    let frameworkID = owner.frameworkID
                    await owner.disconnect()
                    cluster.masterProcess?.crash()
                    try await cluster.startMaster()
                    // Before the registry, a restarted master had forgotten the owner: bob could take the ID first.
                    do {
                        _ = try await EventRecorder.subscribe(cluster.master, id: frameworkID, authorization: bob)
                        Issue.record("bob resumed alice's framework after a master restart")
                    } catch {
                        #expect("\(error)".contains("403"), "\(error)")
                    }
                    let again = try await EventRecorder.subscribe(cluster.master, failoverTimeout: 3600, id: frameworkID, authorization: alice)
                    #expect(again.frameworkID == frameworkID)
                    await again.disconnect()
                }
            }
        }
    }
}
