import CapstanAPI
import CapstanCore
import CapstanReconciler
import CapstanTestSupport
import Foundation
import Testing

/// A master and an agent, a git repository made with the git CLI, and a `capstan reconcile` process following it:
/// what the GitOps end-to-end tests commit to and observe.
final class GitOpsFixture: @unchecked Sendable {
    let cluster: TestCluster
    let repo: String
    /// The reconciler's API: port 0 until ``startReconciler(interval:extra:)`` has it bound, then the bound port (a
    /// restarted reconciler takes the same one again).
    private(set) var api: HostPort
    let secretFile: String
    private(set) var reconciler: CapstanProcess?

    init(cluster: TestCluster) async throws {
        self.cluster = cluster
        repo = cluster.scratch + "/repo"
        api = HostPort(host: "127.0.0.1", port: 0)
        secretFile = cluster.scratch + "/webhook-secret"
        try FileManager.default.createDirectory(atPath: repo, withIntermediateDirectories: true)
        try "s3cret\n".write(toFile: secretFile, atomically: true, encoding: .utf8)
        try await ValidateCommandTests.git(repo, "init", "-q", "-b", "main")
    }

    /// Runs `body` with a started master and agent, and stops the reconciler and the cluster afterwards.
    /// With `busybox`, the agent's image store holds `busybox:e2e` (Debian's busybox-static) before it starts.
    static func with(
        resources: String = "cpus:4;mem:2048;disk:1024;ports:[31000-31099]", busybox: Bool = false, agentArguments: [String] = [],
        _ body: (GitOpsFixture) async throws -> Void
    ) async throws {
        try await TestCluster().run { cluster in
            try await cluster.startMaster()
            let agentDir = cluster.scratch + "/agent-0"
            if busybox { try EndToEnd.ImageTaskTests.importBusybox(agentWorkDir: agentDir, scratch: cluster.scratch) }
            try await cluster.startAgent(resources: resources, workDir: agentDir, extraArguments: agentArguments)
            let fixture = try await GitOpsFixture(cluster: cluster)
            do {
                try await body(fixture)
            } catch {
                let log = fixture.reconciler?.log ?? ""
                await fixture.reconciler?.stop()
                throw TestFailure("\(error)\n--- reconciler (last 4000 chars)\n\(log.suffix(4000))")
            }
            await fixture.reconciler?.stop()
        }
    }

    /// Starts `capstan reconcile` on the repository (polling every `interval`, webhook secret set).
    func startReconciler(interval: String = "300ms", extra: [String] = []) async throws {
        let listenFile = ListenFile.path(in: cluster.scratch, name: "reconciler")
        let process = try CapstanProcess(
            arguments: [
                "reconcile", "--master", cluster.master.description, "--listen", api.description, "--listen-file", listenFile,
                "--work-dir", cluster.scratch + "/reconciler", "--repo", repo, "--branch", "main", "--interval", interval,
                "--webhook-secret-file", secretFile, "--log-level", "debug",
            ] + extra,
            logPath: cluster.scratch + "/reconciler-\(UUID().uuidString.prefix(4)).log")
        reconciler = process
        api = try await ListenFile.address(at: listenFile, of: process)
        try await waitForHealth(api)
    }

    /// SIGKILLs the reconciler (its tasks stay on the master).
    func crashReconciler() async {
        reconciler?.crash()
        try? await Task.sleep(for: .milliseconds(200))
    }

    /// Writes (or, for nil, removes) files and commits them.
    func commit(_ files: [String: String?], _ message: String = "change") async throws {
        for (path, contents) in files {
            let full = repo + "/" + path
            if let contents {
                try FileManager.default.createDirectory(
                    atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try contents.write(toFile: full, atomically: true, encoding: .utf8)
                try await ValidateCommandTests.git(repo, "add", path)
            } else {
                try await ValidateCommandTests.git(repo, "rm", "-q", path)
            }
        }
        try await ValidateCommandTests.git(repo, "commit", "-q", "-m", message)
    }

    func headCommit() async throws -> String {
        let run = try await ValidateCommandTests.capstanOrGit(["git", "-C", repo, "rev-parse", "HEAD"])
        return run.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func status() async throws -> ReconcilerStatus {
        try await ReconcilerClient(baseURL: "http://\(api)").status()
    }

    func app(_ name: String) async throws -> AppStatus? {
        try await status().apps.first { $0.name == name }
    }

    /// Waits until the app is Synced at the repository's HEAD.
    func waitSynced(_ name: String, timeout: Duration = .seconds(20)) async throws {
        let head = String(try await headCommit().prefix(12))
        try await eventually("\(name) Synced at \(head)", timeout: timeout) {
            let app = try await self.app(name)
            return app?.phase == .synced && app?.desiredCommit == head
        }
    }

    /// The live (non-terminal) tasks of an app on the master, with their labels.
    func tasks(of app: String) async throws -> [MesosTask] {
        let response = try await OperatorClient(cluster.master).call(.getTasks)
        let all = (response.getTasks?.pendingTasks ?? []) + (response.getTasks?.tasks ?? [])
        return all.filter { task in
            !task.state.isTerminal && task.labels?.labels.contains { $0.key == TaskLabel.app && $0.value == app } == true
        }
    }

    static func label(_ task: MesosTask, _ key: String) -> String? {
        task.labels?.labels.first { $0.key == key }?.value
    }

    /// A manifest for an App running `command` (a shell line) with `instances` instances, each limited to `resources`
    /// (the agent enforces them: a python3 server needs more CPU than `sleep` to start within its health check's grace).
    static func app(
        _ name: String, instances: Int, command: String = "exec sleep 600", env: [String: String] = [:], extra: String = "",
        resources: String = "{cpus: 0.1, mem: 16Mi}"
    ) -> String {
        let envLine = env.isEmpty ? "" : "\n  env: {" + env.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
        return """
            apiVersion: capstan/v1
            kind: App
            metadata: {name: \(name)}
            spec:
              command: ["/bin/sh", "-c", "\(command)"]
              instances: \(instances)
              resources: \(resources)\(envLine)\(extra)

            """
    }
}
