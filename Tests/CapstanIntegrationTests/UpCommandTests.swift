import CapstanAPI
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    @Suite("capstan up")
    struct UpCommandTests {
        @Test("capstan up runs master and agent in one process; SIGINT stops it and kills its tasks")
        func upRunsAndStopsCleanly() async throws {
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-up-\(UUID().uuidString.prefix(8))").path
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            let (masterFile, agentFile) = (scratch + "/master.listen", scratch + "/agent.listen")
            let up = try CapstanProcess(
                arguments: [
                    "up", "--listen", "127.0.0.1:0", "--listen-file", masterFile, "--agent-listen", "127.0.0.1:0",
                    "--agent-listen-file", agentFile,
                    "--work-dir", scratch + "/wd", "--resources", "cpus:1;mem:256;disk:256;ports:[31000-31001]",
                ], logPath: scratch + "/up.log")
            do {
                let master = try await ListenFile.address(at: masterFile, of: up)
                let agentEndpoint = try await ListenFile.address(at: agentFile, of: up)
                #expect(master.port != 0 && agentEndpoint.port != 0)
                try await waitForHealth(master)
                try await eventually("agent registered") {
                    try await OperatorClient(master).call(.getAgents).getAgents?.agents.count == 1
                }
                #expect(up.log.contains("capstan master listening on http://\(master)"))
                #expect(up.log.contains("capstan agent  listening on http://\(agentEndpoint)"))
                // The agent found up's master on its bound port and registered with its own bound port.
                let agents = try #require(try await OperatorClient(master).call(.getAgents).getAgents?.agents)
                #expect(agents.map(\.agentInfo.port) == [Int32(agentEndpoint.port)])

                let scheduler = try await EventRecorder.subscribe(master)
                let offer = try #require(try await scheduler.nextOffers().first)
                let marker = scratch + "/task.pid"
                try await scheduler.launch(
                    [TestTasks.command("napper", "echo $$ > \(marker); exec sleep 300", agent: offer.agentID)], on: [offer])
                try await scheduler.update("napper", .taskRunning)
                try await eventually("task wrote its pid") { FileManager.default.fileExists(atPath: marker) }
                let text = try String(contentsOfFile: marker, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
                let pid = try #require(Int32(text))
                #expect(kill(pid, 0) == 0, "the task runs")

                await up.stop(signal: SIGINT, timeout: .seconds(15))
                #expect(!up.isRunning)
                #expect(up.process.terminationStatus == 0, "capstan up exits 0 on SIGINT; log:\n\(up.log.suffix(2000))")
                #expect(kill(pid, 0) != 0, "the task's process is gone after shutdown")
                #expect(up.log.contains("capstan stopped"))
                await scheduler.disconnect()
            } catch {
                await up.stop(signal: SIGKILL)
                throw TestFailure("\(error)\n\(up.log.suffix(4000))")
            }
        }
    }
}
