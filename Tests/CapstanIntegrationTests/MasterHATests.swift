import AsyncHTTPClient
import CapstanAPI
import CapstanAPIClient
import CapstanCore
import CapstanTestSupport
import Foundation
import NIOCore
import NIOHTTP1
import Testing

extension EndToEnd {
    /// Three `capstan master --etcd` processes on one real etcd: one leads, the others redirect to it; the leader's
    /// death or pause elects another within the lease TTL, and a paused leader's writes never land.
    @Suite("Master HA on etcd", Prerequisites.requires("master HA against a real etcd", EtcdServer.prerequisite))
    struct MasterHATests {
        static let ttl = 2

        /// The masters, their etcd, and an HTTP client that does not follow redirects.
        final class Cluster: @unchecked Sendable {
            let etcd: EtcdServer
            let scratch: String
            var masters: [(process: CapstanProcess, address: HostPort)] = []
            /// Masters stopped with SIGSTOP: they answer nothing, so the leader checks leave them out.
            var paused: Set<HostPort> = []
            let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))

            init() async throws {
                etcd = try await EtcdServer.start()
                scratch = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-ha-\(UUID().uuidString.prefix(6))").path
                try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            }

            func startMaster() async throws {
                let index = masters.count
                let listenFile = ListenFile.path(in: scratch, name: "master-\(index)")
                let process = try CapstanProcess(
                    arguments: [
                        "master", "--insecure", "--listen", "127.0.0.1:0", "--listen-file", listenFile, "--work-dir", scratch + "/master-\(index)",
                        "--etcd", etcd.endpoint, "--etcd-lease-ttl", "\(MasterHATests.ttl)", "--agent-ping-timeout", "500ms",
                        "--allocation-interval", "200ms", "--heartbeat-interval", "1secs",
                    ],
                    logPath: scratch + "/master-\(index).log")
                masters.append((process, try await ListenFile.address(at: listenFile, of: process)))
            }

            /// Status and `Location` of `GET path` on `master`, not following redirects.
            func get(_ path: String, on master: HostPort) async throws -> (status: Int, location: String?) {
                let response = try await http.execute(HTTPClientRequest(url: master.url + path), timeout: .seconds(5))
                _ = try? await response.body.collect(upTo: 16 << 20)
                return (Int(response.status.code), response.headers.first(name: "Location"))
            }

            /// The live masters that answer `/state` themselves (200), and the others' redirect targets.
            func leaders() async throws -> (leading: [HostPort], redirects: [String]) {
                var leading: [HostPort] = []
                var redirects: [String] = []
                for master in masters where master.process.isRunning && !paused.contains(master.address) {
                    let (status, location) = try await get("/state", on: master.address)
                    if status == 200 { leading.append(master.address) } else if status == 307 { redirects.append(location ?? "") }
                }
                return (leading, redirects)
            }

            /// Waits until exactly one live master leads and every other live one redirects to it.
            func electedLeader(within timeout: Duration) async throws -> HostPort {
                var found: HostPort?
                try await eventually("exactly one leader, followed by the others", timeout: timeout, interval: .milliseconds(100)) {
                    guard let (leading, redirects) = try? await leaders(), leading.count == 1 else { return false }
                    let live = masters.filter { $0.process.isRunning && !paused.contains($0.address) }.count
                    guard redirects.count == live - 1, redirects.allSatisfy({ $0 == "//\(leading[0])/state" }) else { return false }
                    found = leading[0]
                    return true
                }
                return try #require(found)
            }

            /// An agent given every master's address (`--master A,B,C`), or `master` (e.g. `etcd://…`): it follows
            /// whichever leads.
            func startAgent(master: String? = nil) async throws -> CapstanProcess {
                let listenFile = ListenFile.path(in: scratch, name: "agent")
                let process = try CapstanProcess(
                    arguments: [
                        "agent", "--insecure", "--master", master ?? masters.map(\.address.description).joined(separator: ","), "--listen", "127.0.0.1:0",
                        "--listen-file", listenFile, "--work-dir", scratch + "/agent", "--resources", "cpus:1;mem:128;disk:128",
                        "--log-level", "debug",
                    ],
                    logPath: scratch + "/agent.log")
                agent = process
                _ = try await ListenFile.address(at: listenFile, of: process)
                return process
            }
            var agent: CapstanProcess?

            /// The IDs of the active agents `master` lists.
            func activeAgents(on master: HostPort) async throws -> [String] {
                let agents = try await OperatorClient(master).call(.getAgents).getAgents?.agents ?? []
                return agents.filter(\.active).compactMap { $0.agentInfo.id?.value }
            }

            /// SIGSTOPs the master at `address` and waits until the kernel shows it stopped.
            func pause(_ address: HostPort) async throws {
                let process = try #require(self.process(at: address))
                kill(process.pid, SIGSTOP)
                paused.insert(address)
                try await eventually("master \(address) stopped") {
                    let status = (try? String(contentsOfFile: "/proc/\(process.pid)/stat", encoding: .utf8)) ?? ""
                    return status.split(separator: ")").last?.split(separator: " ").first == "T"
                }
            }

            func process(at address: HostPort) -> CapstanProcess? { masters.first { $0.address == address }?.process }

            func shutdown() async {
                await agent?.stop()
                for master in masters {
                    kill(master.process.pid, SIGCONT)
                    await master.process.stop()
                }
                try? await http.shutdown()
                etcd.stop()
                try? FileManager.default.removeItem(atPath: scratch)
            }
        }

        static func with(_ body: (Cluster) async throws -> Void) async throws {
            let cluster = try await Cluster()
            do {
                try await body(cluster)
            } catch {
                for (index, master) in cluster.masters.enumerated() { print("--- master-\(index) log:\n\(master.process.log.suffix(3000))") }
                if let agent = cluster.agent { print("--- agent log:\n\(agent.log.suffix(3000))") }
                await cluster.shutdown()
                throw error
            }
            await cluster.shutdown()
        }

        @Test("Three masters elect one leader; the others answer 307 to it; SIGKILL of the leader elects another within the TTL plus a few seconds")
        func electionRedirectsAndFailover() async throws {
            try await Self.with { cluster in
                for _ in 0..<3 { try await cluster.startMaster() }
                let leader = try await cluster.electedLeader(within: .seconds(30))
                let followers = cluster.masters.map(\.address).filter { $0 != leader }
                for follower in followers {
                    // The operator API redirects with its path; /redirect names the leader itself (as Mesos').
                    let api = try await cluster.get("/api/v1", on: follower)
                    #expect(api.status == 307 && api.location == "//\(leader)/api/v1", "\(api)")
                    let redirect = try await cluster.get("/redirect", on: follower)
                    #expect(redirect.status == 307 && redirect.location == "//\(leader)", "\(redirect)")
                    // Health stays local.
                    #expect(try await cluster.get("/health", on: follower).status == 200)
                }
                #expect(try await cluster.get("/redirect", on: leader).location == "//\(leader)")
                // The leader key in etcd names the leader.
                #expect(try await cluster.etcd.keys(under: "/capstan/leader")["/capstan/leader"] == leader.description)

                // An agent given all three addresses registers with the leader, and is admitted in etcd.
                _ = try await cluster.startAgent()
                var agentIDs: [String] = []
                try await eventually("the agent registered with the leader", timeout: .seconds(20)) {
                    agentIDs = try await cluster.activeAgents(on: leader)
                    return agentIDs.count == 1
                }
                #expect(try await cluster.etcd.keys(under: "/capstan/registry/agents/").keys.map { String($0.split(separator: "/").last ?? "") } == agentIDs)

                // A framework registered with the leader is in the etcd registry.
                let framework = try await EventRecorder.subscribe(leader, name: "ha-framework", failoverTimeout: 3600)
                try await eventually("the framework in etcd") { try await cluster.etcd.keys(under: "/capstan/registry/frameworks/").count == 1 }
                await framework.disconnect()

                let killed = ContinuousClock.now
                try #require(cluster.process(at: leader)).crash()
                let next = try await cluster.electedLeader(within: .seconds(Self.ttl + 10))
                let failover = ContinuousClock.now - killed
                print("fault etcd-leader-failover: a new leader \(failover) after SIGKILL of the leader (lease TTL \(Self.ttl)s)")
                #expect(next != leader)
                #expect(failover < .seconds(Self.ttl + 5))
                // The new leader loaded the registry when it won: the framework is known, disconnected.
                let frameworks = try await OperatorClient(next).call(.getFrameworks).getFrameworks?.frameworks ?? []
                #expect(frameworks.contains { $0.frameworkInfo.id == framework.frameworkID && !$0.connected }, "\(frameworks)")
                // The agent loses the old leader, finds the new one through /redirect, and re-registers with its ID.
                try await eventually("the agent re-registered with the new leader", timeout: .seconds(30)) {
                    try await cluster.activeAgents(on: next) == agentIDs
                }
            }
        }

        @Test("capstan up --etcd leads once elected, keeps its registry in etcd, and resigns on SIGINT")
        func upWithEtcd() async throws {
            let etcd = try await EtcdServer.start()
            defer { etcd.stop() }
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-up-etcd-\(UUID().uuidString.prefix(8))").path
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            let masterFile = scratch + "/master.listen"
            let up = try CapstanProcess(
                arguments: [
                    "up", "--listen", "127.0.0.1:0", "--listen-file", masterFile, "--agent-listen", "127.0.0.1:0", "--work-dir", scratch + "/wd",
                    "--resources", "cpus:1;mem:256;disk:256", "--etcd", etcd.endpoint, "--etcd-lease-ttl", "\(Self.ttl)",
                ], logPath: scratch + "/up.log")
            do {
                let master = try await ListenFile.address(at: masterFile, of: up)
                try await eventually("up's master elected, its agent registered", timeout: .seconds(30)) {
                    (try? await OperatorClient(master).call(.getAgents).getAgents?.agents.count) == 1
                }
                #expect(try await etcd.keys(under: "/capstan/leader")["/capstan/leader"] == master.description)
                #expect(try await etcd.keys(under: "/capstan/registry/agents/").count == 1)
                #expect(!FileManager.default.fileExists(atPath: scratch + "/wd/master/registry.sqlite"), "--etcd keeps no SQLite registry")
                await up.stop(signal: SIGINT, timeout: .seconds(15))
                #expect(up.process.terminationStatus == 0, "\(up.log.suffix(2000))")
                // It resigned: the next master need not wait for the lease to run out.
                #expect(try await etcd.keys(under: "/capstan/leader").isEmpty)
                #expect(try await etcd.keys(under: "/capstan/registry/agents/").count == 1)
            } catch {
                await up.stop(signal: SIGKILL)
                throw TestFailure("\(error)\n\(up.log.suffix(4000))")
            }
        }

        @Test("SIGSTOP the leader past its lease, then SIGCONT: another leads, the old one steps down (exits 75) and its write did not land")
        func pausedLeaderIsFenced() async throws {
            try await Self.with { cluster in
                for _ in 0..<2 { try await cluster.startMaster() }
                let leader = try await cluster.electedLeader(within: .seconds(30))
                let paused = try #require(cluster.process(at: leader))
                try await cluster.pause(leader)
                let stopped = ContinuousClock.now
                let next = try await cluster.electedLeader(within: .seconds(Self.ttl + 10))
                print("fault etcd-leader-sigstop: a new leader \(ContinuousClock.now - stopped) after SIGSTOP of the leader (lease TTL \(Self.ttl)s)")
                #expect(next != leader)
                // While it is stopped, a scheduler subscribes to it: the kernel queues the request for when it wakes.
                let info = #"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"root","name":"written-by-the-paused-leader"}}}"#
                let connection = try RawConnection(to: leader)
                try connection.send(
                    "POST /api/v1/scheduler HTTP/1.1\r\nHost: \(leader)\r\nContent-Type: application/json\r\nAccept: application/json\r\n"
                        + "Content-Length: \(info.utf8.count)\r\n\r\n\(info)")
                kill(paused.pid, SIGCONT)
                try await eventually("the paused leader to step down and exit", timeout: .seconds(10)) { !paused.isRunning }
                #expect(paused.process.terminationStatus == 75)
                #expect(paused.log.contains("stepping down"), "\(paused.log.suffix(2000))")
                // Nothing it was asked to write is in etcd, and the new leader still leads.
                let frameworks = try await cluster.etcd.keys(under: "/capstan/registry/frameworks/")
                let landed = frameworks.values.filter { $0.contains("written-by-the-paused-leader") }.count
                print("fault etcd-leader-sigstop: the paused leader exited with \(paused.process.terminationStatus), its writes that landed: \(landed)")
                #expect(landed == 0)
                #expect(try await cluster.get("/state", on: next).status == 200)
                connection.close()
            }
        }
    }
}
