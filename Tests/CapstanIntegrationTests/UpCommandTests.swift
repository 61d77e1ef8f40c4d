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
            let master = HostPort(host: "127.0.0.1", port: FreePort.next())
            let agentEndpoint = HostPort(host: "127.0.0.1", port: FreePort.next())
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            let up = try CapstanProcess(
                arguments: [
                    "up", "--listen", master.description, "--agent-listen", agentEndpoint.description,
                    "--work-dir", scratch + "/wd", "--resources", "cpus:1;mem:256;disk:256;ports:[31000-31001]",
                ], logPath: scratch + "/up.log")
            do {
                try await waitForHealth(master)
                try await eventually("agent registered") {
                    try await OperatorClient(master).call(.getAgents).getAgents?.agents.count == 1
                }
                #expect(up.log.contains("capstan master listening on http://\(master)"))
                #expect(up.log.contains("capstan agent  listening on http://\(agentEndpoint)"))

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
