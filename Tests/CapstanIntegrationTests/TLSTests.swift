import CapstanAPI
import CapstanAPIClient
import CapstanAuth
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    @Suite("TLS")
    struct TLSTests {
        /// A master and an agent speaking only HTTPS, with mutual TLS: the agent registers and runs a task the
        /// scheduler launches over HTTPS; plain HTTP, an untrusted server CA and a missing client certificate fail.
        @Test("Master and agent over mutual TLS: registration and a task work; plain HTTP and missing or foreign certificates fail")
        func mutualTLSCluster() async throws {
            let cluster = try TestCluster()
            let certs = try TestCertificates(in: cluster.scratch + "/tls")
            let tlsFlags = ["--tls-cert", certs.cert, "--tls-key", certs.key, "--tls-ca", certs.ca, "--tls-require-client-cert"]
            let client = try JSONPoster(tls: ClientTLS(caFile: certs.ca, certificateFile: certs.clientCert, keyFile: certs.clientKey))
            var processes: [CapstanProcess] = []
            defer {
                for process in processes { process.crash() }
                try? FileManager.default.removeItem(atPath: cluster.scratch)
            }
            do {
                let masterFile = ListenFile.path(in: cluster.scratch, name: "master")
                processes.append(try CapstanProcess(
                    arguments: ["master", "--listen", "127.0.0.1:0", "--listen-file", masterFile, "--work-dir", cluster.scratch + "/master",
                        "--agent-credentials", cluster.agentCredentialsPath, "--allocation-interval", "200ms"] + tlsFlags,
                    logPath: cluster.scratch + "/master.log"))
                let master = try await ListenFile.address(at: masterFile, of: processes[0])
                let agentFile = ListenFile.path(in: cluster.scratch, name: "agent")
                processes.append(try CapstanProcess(
                    arguments: ["agent", "--master", master.description, "--listen", "127.0.0.1:0", "--listen-file", agentFile, "--work-dir",
                        cluster.scratch + "/agent", "--resources", "cpus:1;mem:256;disk:256;ports:[31000-31009]"]
                        + cluster.agentCredentialArguments(slot: 0) + tlsFlags,
                    logPath: cluster.scratch + "/agent.log"))
                let agentEndpoint = try await ListenFile.address(at: agentFile, of: processes[1])
                try await eventually("the agent registers over TLS", timeout: .seconds(30)) {
                    let reply = try? await client.post(OperatorCall(type: .getAgents), to: master.url(tls: true) + "/api/v1")
                    guard let reply, reply.isSuccess else { return false }
                    return (try? MesosJSON.decode(OperatorResponse.self, from: reply.body))?.getAgents?.agents.count == 1
                }
                // A scheduler over HTTPS launches a task; master → agent run-task goes over TLS too.
                let scheduler = EventRecorder(
                    try await SchedulerClient(master: master, client: client.client, secure: true).subscribe(FrameworkInfo(user: "root", name: "tls")))
                await scheduler.start()
                let offer = try #require(try await scheduler.nextOffers(timeout: .seconds(20)).first)
                try await scheduler.launch([TestTasks.command("over-tls", "true", agent: offer.agentID)], on: [offer])
                try await scheduler.update("over-tls", .taskFinished, timeout: .seconds(20))
                await scheduler.disconnect()

                // Plain HTTP to a TLS port gets no HTTP answer.
                let plain = JSONPoster()
                await #expect(throws: (any Error).self) { _ = try await plain.get(master.url + "/health") }
                // No client certificate: the handshake is refused.
                let noCert = try JSONPoster(tls: ClientTLS(caFile: certs.ca))
                await #expect(throws: (any Error).self) { _ = try await noCert.get(master.url(tls: true) + "/health") }
                // A client certificate from another CA is refused too.
                let stranger = try JSONPoster(
                    tls: ClientTLS(caFile: certs.ca, certificateFile: certs.strangerCert, keyFile: certs.strangerKey))
                await #expect(throws: (any Error).self) { _ = try await stranger.get(agentEndpoint.url(tls: true) + "/health") }
                // A client that does not trust the server's CA refuses the server.
                let distrustful = try JSONPoster(
                    tls: ClientTLS(caFile: certs.strangerCert, certificateFile: certs.clientCert, keyFile: certs.clientKey))
                await #expect(throws: (any Error).self) { _ = try await distrustful.get(master.url(tls: true) + "/health") }
                #expect(try await client.get(agentEndpoint.url(tls: true) + "/health").status == 200)
            } catch {
                for process in processes { Issue.record("\(process.arguments.first ?? ""): \(process.log.suffix(3000))") }
                throw error
            }
        }

        @Test("TLS without client certificates: any client that trusts the CA is served; capstan status reaches the master over HTTPS")
        func serverOnlyTLS() async throws {
            let scratch = NSTemporaryDirectory() + "capstan-tls-\(UUID().uuidString.prefix(6))"
            let certs = try TestCertificates(in: scratch + "/tls")
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            let masterFile = ListenFile.path(in: scratch, name: "master")
            let up = try CapstanProcess(
                arguments: ["up", "--no-reconciler", "--listen", "127.0.0.1:0", "--listen-file", masterFile, "--agent-listen", "127.0.0.1:0",
                    "--work-dir", scratch + "/up", "--resources", "cpus:1;mem:256;disk:256;ports:[31000-31009]",
                    "--tls-cert", certs.cert, "--tls-key", certs.key, "--tls-ca", certs.ca],
                logPath: scratch + "/up.log")
            defer { up.crash() }
            let master = try await ListenFile.address(at: masterFile, of: up)
            let client = try JSONPoster(tls: ClientTLS(caFile: certs.ca))
            try await eventually("up's agent registers over TLS", timeout: .seconds(30)) {
                guard let reply = try? await client.post(OperatorCall(type: .getAgents), to: master.url(tls: true) + "/api/v1"), reply.isSuccess
                else { return false }
                return (try? MesosJSON.decode(OperatorResponse.self, from: reply.body))?.getAgents?.agents.count == 1
            }
            // `capstan status --tls-ca` talks HTTPS to the master (no reconciler runs: it says so, over TLS).
            let status = try CapstanProcess(
                arguments: ["status", "--master", master.description, "--tls-ca", certs.ca], logPath: scratch + "/status.log")
            try await eventually("status exits", timeout: .seconds(15)) { !status.isRunning }
            #expect(status.log.contains("capstan-reconciler") || status.log.contains("reconciler"), "\(status.log)")
            #expect(!status.log.contains("Cannot reach the master"), "\(status.log)")
        }
    }
}
