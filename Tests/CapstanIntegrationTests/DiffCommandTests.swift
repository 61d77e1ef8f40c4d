import CapstanAPI
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    /// `capstan diff` through the built binary, on git repositories made with the git CLI: against another
    /// revision and a saved GET_STATE (offline), and against a live master running labelled tasks.
    @Suite("capstan diff")
    struct DiffCommandTests {
        struct Run {
            var status: Int32
            var stdout: String
            var stderr: String
        }

        /// Runs `argv` in `directory`; output goes to files (not pipes, which a concurrently forked child could hold open).
        static func run(_ argv: [String], in directory: String? = nil) async throws -> Run {
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-diff-run-\(UUID().uuidString.prefix(8))").path
            defer {
                try? FileManager.default.removeItem(atPath: base + ".out")
                try? FileManager.default.removeItem(atPath: base + ".err")
            }
            FileManager.default.createFile(atPath: base + ".out", contents: nil)
            FileManager.default.createFile(atPath: base + ".err", contents: nil)
            let stdout = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".out"))
            let stderr = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".err"))
            let process = Process()
            process.executableURL = URL(fileURLWithPath: argv[0].hasPrefix("/") ? argv[0] : "/usr/bin/env")
            process.arguments = argv[0].hasPrefix("/") ? Array(argv.dropFirst()) : argv
            if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
            process.standardOutput = stdout
            process.standardError = stderr
            process.standardInput = FileHandle.nullDevice
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                process.terminationHandler = { _ in continuation.resume() }
                do { try process.run() } catch { continuation.resume(throwing: error) }
            }
            try stdout.close()
            try stderr.close()
            return Run(
                status: process.terminationStatus,
                stdout: String(decoding: try Data(contentsOf: URL(fileURLWithPath: base + ".out")), as: UTF8.self),
                stderr: String(decoding: try Data(contentsOf: URL(fileURLWithPath: base + ".err")), as: UTF8.self))
        }

        static func diff(_ arguments: [String], in directory: String? = nil) async throws -> Run {
            try await run([CapstanBinary.path, "diff"] + arguments, in: directory)
        }

        @discardableResult
        static func git(_ directory: String, _ arguments: String...) async throws -> String {
            let run = try await run(["git", "-C", directory, "-c", "user.name=Capstan Test", "-c", "user.email=test@capstan.invalid"] + arguments)
            #expect(run.status == 0, "git \(arguments): \(run.stderr)")
            return run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        static func web(instances: Int, mode: String) -> String {
            """
            apiVersion: capstan/v1
            kind: App
            metadata: {name: web}
            spec:
              command: [/bin/sleep, "600"]
              instances: \(instances)
              env: {MODE: \(mode)}
              resources: {cpus: 0.5, mem: 64Mi}

            """
        }
        static let api = """
            apiVersion: capstan/v1
            kind: App
            metadata: {name: api}
            spec: {command: [/bin/sleep, "600"], instances: 2, resources: {cpus: 0.25, mem: 32Mi}}

            """
        static let migrate = """
            apiVersion: capstan/v1
            kind: Job
            metadata: {name: migrate}
            spec: {command: "exit 0", resources: {cpus: 0.1, mem: 16Mi}}

            """

        /// A repository with manifests under `Manifests/`: tag v1 (web 2× dev, migrate), then main (web 3× prod, api, migrate).
        /// Returns the directory and the short commits of v1 and main.
        static func withRepository(_ body: (String, String, String) async throws -> Void) async throws {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-diff-\(UUID().uuidString.prefix(8))").path
            try FileManager.default.createDirectory(atPath: dir + "/Manifests", withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            try await git(dir, "init", "-q", "-b", "main")
            try web(instances: 2, mode: "dev").write(toFile: dir + "/Manifests/web.yaml", atomically: true, encoding: .utf8)
            try migrate.write(toFile: dir + "/Manifests/migrate.yaml", atomically: true, encoding: .utf8)
            try await git(dir, "add", "-A")
            try await git(dir, "commit", "-q", "-m", "v1")
            try await git(dir, "tag", "v1")
            try web(instances: 3, mode: "prod").write(toFile: dir + "/Manifests/web.yaml", atomically: true, encoding: .utf8)
            try api.write(toFile: dir + "/Manifests/api.yml", atomically: true, encoding: .utf8)
            try await git(dir, "add", "-A")
            try await git(dir, "commit", "-q", "-m", "v2")
            let v1 = String(try await git(dir, "rev-parse", "v1").prefix(12))
            let head = String(try await git(dir, "rev-parse", "HEAD").prefix(12))
            try await body(dir, v1, head)
        }

        /// The desired template label of each item, from `diff --output json`.
        static func templateLabels(_ dir: String) async throws -> [String: String] {
            let run = try await diff(["--repo", dir, "--against", "HEAD", "--output", "json"])
            #expect(run.status == 0, "\(run.stderr)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
            var labels: [String: String] = [:]
            for item in object["items"] as? [[String: Any]] ?? [] {
                labels[item["name"] as! String] = item["templateLabel"] as? String
            }
            return labels
        }

        // MARK: Offline

        @Test("Against another revision: exit 2 with the plan in text, JSON and markdown; exit 0 against itself")
        func againstARevision() async throws {
            try await Self.withRepository { dir, v1, head in
                let text = try await Self.diff(["--repo", dir, "--against", "v1"])
                #expect(text.status == 2, "\(text.stderr)")
                #expect(text.stderr.isEmpty)
                #expect(text.stdout == """
                    Plan for \(head) against v1 (\(v1))

                    + create   api  2 instances
                    ~ update   web  2 -> 3 instances, 2 to replace
                          spec.env.MODE: "dev" -> "prod"
                          spec.instances: 2 -> 3

                    Plan: 1 to create, 1 to update, 0 to scale, 0 to delete, 1 unchanged.

                    """)

                let json = try await Self.diff(["--repo", dir, "--against", "v1", "--output", "json"])
                #expect(json.status == 2)
                let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
                #expect(object["formatVersion"] as? Int == 1)
                #expect(object["hasChanges"] as? Bool == true)
                #expect(object["against"] as? String == "v1 (\(v1))")
                #expect((object["commit"] as? String)?.hasPrefix(head) == true)
                let summary = try #require(object["summary"] as? [String: Int])
                #expect(summary == ["create": 1, "update": 1, "scale": 0, "delete": 0, "unchanged": 1, "willNotFit": 0])
                let items = try #require(object["items"] as? [[String: Any]])
                #expect(items.map { $0["name"] as? String } == ["api", "migrate", "web"])
                #expect(items.map { $0["action"] as? String } == ["create", "unchanged", "update"])
                #expect((items[0]["fit"] as? [String: Any])?["status"] as? String == "unchecked")

                let markdown = try await Self.diff(["--repo", dir, "--against", "v1", "--output", "markdown"])
                #expect(markdown.status == 2)
                #expect(markdown.stdout.hasPrefix("### capstan diff: `\(head)` against v1 (\(v1))\n"))
                #expect(markdown.stdout.contains("| ~ | `web` | App | update | 2 -> 3 instances, 2 to replace | not checked |\n"))
                #expect(markdown.stdout.contains("| `spec.env.MODE` | `\"dev\"` | `\"prod\"` |\n"))

                let same = try await Self.diff(["--repo", dir, "--against", "HEAD"])
                #expect(same.status == 0)
                #expect(same.stdout == "Plan for \(head) against HEAD (\(head))\n\nNo changes: the cluster matches \(head) (3 unchanged).\n")
                let sameJSON = try await Self.diff(["--repo", dir, "--against", head, "--output", "json"])
                #expect(sameJSON.status == 0)
                #expect(sameJSON.stdout.contains("\"hasChanges\": false"))
                let sameMarkdown = try await Self.diff(["--repo", dir, "--against", "main", "--output", "markdown"])
                #expect(sameMarkdown.status == 0)
                #expect(sameMarkdown.stdout.hasSuffix("No changes: the cluster matches `\(head)` (3 unchanged).\n"))

                // The other way round: v1 against main deletes api and scales nothing back silently.
                let back = try await Self.diff(["--repo", "file://" + dir, "--revision", "v1", "--against", "main", "--no-color"])
                #expect(back.status == 2)
                #expect(back.stdout.contains("- delete   api  2 instances\n"))
            }
        }

        @Test("A local repository is read in place: its own branches and HEAD, a remote-tracking ref, and nothing in it is written")
        func localRepositoryInPlace() async throws {
            try await Self.withRepository { dir, v1, head in
                try await Self.git(dir, "branch", "feature", "v1")
                try await Self.git(dir, "update-ref", "refs/remotes/origin/main", "v1")
                let before = try await Self.run(["sh", "-c", "cd \(dir) && find .git -exec stat -c '%n %s %Y' {} + | sort"]).stdout

                // A branch that is not checked out is read from its own ref, not from a fetched copy.
                let feature = try await Self.diff(["--repo", dir, "--revision", "feature", "--against", "main", "--no-color"])
                #expect(feature.status == 2, "\(feature.stderr)")
                #expect(feature.stdout.hasPrefix("Plan for \(v1) against main (\(head))\n"))
                #expect(feature.stdout.contains("- delete   api  2 instances\n"))
                // `origin/main` is the repository's remote-tracking branch (here at v1), as `git diff origin/main` reads it.
                let tracking = try await Self.diff(["--repo", dir, "--against", "origin/main", "--no-color"])
                #expect(tracking.status == 2, "\(tracking.stderr)")
                #expect(tracking.stdout.hasPrefix("Plan for \(head) against origin/main (\(v1))\n"))
                // The same plan through a URL (fetched into a temporary cache) as in place.
                let fetched = try await Self.diff(["--repo", "file://" + dir, "--revision", "v1", "--against", "main", "--no-color"])
                #expect(fetched.status == 2, "\(fetched.stderr)")
                #expect(fetched.stdout == feature.stdout)

                let after = try await Self.run(["sh", "-c", "cd \(dir) && find .git -exec stat -c '%n %s %Y' {} + | sort"]).stdout
                #expect(before == after, "capstan diff wrote into the repository it read")
            }
        }

        @Test("Defaults: the repository of the current directory, HEAD, and Manifests/ when it exists; --branch and --path")
        func defaultsAndScriptFlags() async throws {
            try await Self.withRepository { dir, v1, head in
                let inside = try await Self.diff(["--against", "v1"], in: dir + "/Manifests")
                #expect(inside.status == 2, "\(inside.stderr)")
                #expect(inside.stdout.hasPrefix("Plan for \(head) against v1 (\(v1))\n"))

                let branch = try await Self.diff(["--repo", dir, "--branch", "main", "--path", "Manifests", "--against", "v1"])
                #expect(branch.stdout == inside.stdout)

                // --path at the root finds the same manifests (every *.yaml below it).
                let root = try await Self.diff(["--repo", dir, "--path", "", "--against", "v1"])
                #expect(root.stdout == inside.stdout)

                let outside = try await Self.diff(["--against", "v1"], in: "/")
                #expect(outside.status == 1)
                #expect(outside.stderr.contains("is not inside a git repository; pass --repo"))
            }
        }

        @Test("Errors exit 1: invalid manifests (file:line:col on stderr), unknown revisions, both --revision and --branch")
        func errorsExitOne() async throws {
            try await Self.withRepository { dir, _, _ in
                try Self.web(instances: 3, mode: "prod").replacingOccurrences(of: "cpus: 0.5", with: "cpus: many")
                    .write(toFile: dir + "/Manifests/web.yaml", atomically: true, encoding: .utf8)
                try await Self.git(dir, "commit", "-q", "-a", "-m", "broken")
                let bad = try await Self.diff(["--repo", dir, "--against", "v1"])
                #expect(bad.status == 1)
                #expect(bad.stdout.isEmpty)
                #expect(bad.stderr.hasPrefix("Manifests/web.yaml:8:21: spec.resources.cpus: expected a number, got a string\ncapstan diff: 1 error in the manifests at HEAD ("))

                let badBase = try await Self.diff(["--repo", dir, "--revision", "v1", "--against", "main"])
                #expect(badBase.status == 1)
                #expect(badBase.stderr.contains("in the manifests at main"))

                let unknown = try await Self.diff(["--repo", dir, "--revision", "v1", "--against", "no-such-tag"])
                #expect(unknown.status == 1)
                #expect(unknown.stderr.contains("no branch, tag or commit 'no-such-tag'"))

                let both = try await Self.diff(["--repo", dir, "--revision", "v1", "--branch", "main"])
                #expect(both.status == 1)
                #expect(both.stderr.contains("give either --revision or --branch, not both"))

                let notJSON = dir + "/state.json"
                try "{\"hello\": 1}".write(toFile: notJSON, atomically: true, encoding: .utf8)
                let badState = try await Self.diff(["--repo", dir, "--revision", "v1", "--against", notJSON])
                #expect(badState.status == 1)
                #expect(badState.stderr.contains("no get_tasks or get_agents"))

                let closed = ClosedPort()
                let noMaster = try await Self.diff(["--repo", dir, "--revision", "v1", "--master", "127.0.0.1:\(closed.port)"])
                withExtendedLifetime(closed) {}
                #expect(noMaster.status == 1)
                #expect(noMaster.stderr.hasPrefix("capstan diff: "))
            }
        }

        @Test("Colour only on a terminal (run under script(1) for a pty), and never with --no-color or NO_COLOR")
        func colourOnATerminal() async throws {
            try await Self.withRepository { dir, _, _ in
                let command = "\(CapstanBinary.path) diff --repo \(dir) --against v1"
                // NO_COLOR may be set by whoever runs the tests; the first two runs clear it.
                let tty = try await Self.run(["/usr/bin/env", "-u", "NO_COLOR", "/usr/bin/script", "-qec", command, "/dev/null"])
                #expect(tty.status == 2)
                #expect(tty.stdout.contains("\u{1B}[32m+ create   api  2 instances\u{1B}[0m"))
                #expect(tty.stdout.contains("\u{1B}[33m~ update   web"))
                let plain = try await Self.run(["/usr/bin/env", "-u", "NO_COLOR", "/usr/bin/script", "-qec", command + " --no-color", "/dev/null"])
                #expect(plain.status == 2)
                #expect(plain.stdout.contains("+ create   api  2 instances"))
                #expect(!plain.stdout.contains("\u{1B}["))
                let noColor = try await Self.run(["/usr/bin/env", "NO_COLOR=1", "/usr/bin/script", "-qec", command, "/dev/null"])
                #expect(!noColor.stdout.contains("\u{1B}[") && noColor.stdout.contains("+ create"))
                let piped = try await Self.diff(["--repo", dir, "--against", "v1"])
                #expect(!piped.stdout.contains("\u{1B}["), "a file is not a terminal")
            }
        }

        /// A labelled task as the reconciler would launch it.
        static func task(_ id: String, app: String, label: String, commit: String, state: TaskState, cpus: Double = 0.1, kind: String = "App") -> MesosTask {
            MesosTask(
                name: id, taskID: TaskID(id), frameworkID: "fw", agentID: "agent-1", state: state,
                resources: Resources([.scalar("cpus", cpus), .scalar("mem", 16)]).mesos,
                labels: Labels(labels: [
                    Label(key: TaskLabel.app, value: app), Label(key: TaskLabel.spec, value: label),
                    Label(key: TaskLabel.commit, value: commit), Label(key: TaskLabel.kind, value: kind),
                ]))
        }

        @Test("Against a saved GET_STATE: deletes, will-not-fit on the agents' free resources, and no changes")
        func againstASavedState() async throws {
            try await Self.withRepository { dir, _, head in
                let labels = try await Self.templateLabels(dir)
                var tasks = (0..<3).map { Self.task("web-\($0)", app: "web", label: labels["web"]!, commit: head, state: .taskRunning) }
                tasks += (0..<2).map { Self.task("api-\($0)", app: "api", label: labels["api"]!, commit: head, state: .taskRunning) }
                let finished = [Self.task("migrate-0", app: "migrate", label: labels["migrate"]!, commit: head, state: .taskFinished, kind: "Job")]
                let agent = OperatorResponse.GetAgents.Agent(
                    agentInfo: AgentInfo(hostname: "node1", id: "agent-1"), active: true, version: "1.0.0",
                    totalResources: Resources([.scalar("cpus", 2), .scalar("mem", 1024)]).mesos,
                    allocatedResources: Resources([.scalar("cpus", 1.9), .scalar("mem", 200)]).mesos)
                func write(_ tasks: [MesosTask], to path: String) throws {
                    let state = OperatorResponse.GetState(
                        getTasks: .init(tasks: tasks, completedTasks: finished), getAgents: .init(agents: [agent]))
                    try MesosJSON.encode(OperatorResponse(type: .getState, getState: state)).write(to: URL(fileURLWithPath: path))
                }

                try write(tasks, to: dir + "/converged.json")
                let converged = try await Self.diff(["--repo", dir, "--against", dir + "/converged.json"])
                #expect(converged.status == 0, "\(converged.stdout)\(converged.stderr)")
                #expect(converged.stdout.hasSuffix("No changes: the cluster matches \(head) (3 unchanged).\n"))

                // A task of an app git no longer has, and api missing: delete, and a create that does not fit in 0.1 cpus.
                let extra = Self.task("legacy-0", app: "legacy", label: "0123456789abcdef", commit: head, state: .taskRunning)
                try write(Array(tasks.prefix(3)) + [extra], to: dir + "/drift.json")
                let drift = try await Self.diff(["--repo", dir, "--against", dir + "/drift.json"])
                #expect(drift.status == 2)
                #expect(drift.stdout == """
                    Plan for \(head) against state \(dir)/drift.json

                    + create   api     2 instances
                          will not fit: 0 of 2 new instances placed; no agent has cpus 0.25 free (most on one agent: 0.2)
                    - delete   legacy  1 instance

                    Plan: 1 to create, 0 to update, 0 to scale, 1 to delete, 2 unchanged.
                    1 item will not fit on the agents' free resources.

                    """)
                let json = try await Self.diff(["--repo", dir, "--against", dir + "/drift.json", "--output", "json"])
                #expect(json.status == 2)
                #expect(json.stdout.contains("\"status\": \"willNotFit\""))
                let markdown = try await Self.diff(["--repo", dir, "--against", dir + "/drift.json", "--output", "markdown"])
                #expect(markdown.status == 2)
                #expect(markdown.stdout.contains("| - | `legacy` | App | delete | 1 instance |  |\n"))
            }
        }

        // MARK: Live

        @Test("Against a live master: labelled tasks match the manifests (exit 0); a changed spec and an unknown app show (exit 2)")
        func againstALiveMaster() async throws {
            try await Self.withRepository { dir, v1, head in
                let labels = try await Self.templateLabels(dir)
                try await TestCluster.with { cluster in
                    let scheduler = try await EventRecorder.subscribe(cluster.master, name: "capstan-reconciler")
                    let offer = try #require(try await scheduler.nextOffers().first)
                    func labelled(_ id: String, app: String, shell: String, kind: String = "App") -> TaskInfo {
                        var task = TestTasks.command(id, shell, agent: offer.agentID)
                        task.labels = Labels(labels: [
                            Label(key: TaskLabel.app, value: app), Label(key: TaskLabel.spec, value: labels[app]!),
                            Label(key: TaskLabel.commit, value: head), Label(key: TaskLabel.kind, value: kind),
                        ])
                        return task
                    }
                    let tasks = (0..<3).map { labelled("web-\($0)", app: "web", shell: "sleep 600") }
                        + (0..<2).map { labelled("api-\($0)", app: "api", shell: "sleep 600") }
                        + [labelled("migrate-0", app: "migrate", shell: "exit 0", kind: "Job")]
                    try await scheduler.launch(tasks, on: [offer])
                    for task in tasks.prefix(5) { try await scheduler.update(task.taskID, .taskRunning) }
                    try await scheduler.update("migrate-0", .taskFinished)
                    try await eventually("migrate-0 completed on the master") {
                        let state = try await OperatorClient(cluster.master).call(.getTasks).getTasks
                        return state?.completedTasks.contains { $0.taskID == "migrate-0" } == true
                    }

                    let live = try await Self.diff(["--repo", dir, "--master", cluster.master.description])
                    #expect(live.status == 0, "\(live.stdout)\(live.stderr)")
                    #expect(live.stdout == "Plan for \(head) against live \(cluster.master)\n\nNo changes: the cluster matches \(head) (3 unchanged).\n")

                    // The cluster runs main; deploying v1 updates web (fields read from main's manifest) and prunes api.
                    let older = try await Self.diff(["--repo", dir, "--revision", "v1", "--master", cluster.master.description, "--output", "json"])
                    #expect(older.status == 2)
                    let object = try #require(try JSONSerialization.jsonObject(with: Data(older.stdout.utf8)) as? [String: Any])
                    #expect(object["against"] as? String == "live \(cluster.master)")
                    #expect((object["commit"] as? String)?.hasPrefix(v1) == true)
                    let items = try #require(object["items"] as? [[String: Any]])
                    #expect(items.map { $0["action"] as? String } == ["delete", "unchanged", "update"])
                    let web = items[2]
                    #expect((web["changes"] as? [[String: Any]])?.map { $0["path"] as? String } == ["spec.env.MODE", "spec.instances"])
                    #expect((web["fit"] as? [String: Any])?["status"] as? String == "fits")
                    #expect(web["runningCommits"] as? [String] == [head])

                    // A task Capstan did not launch is ignored; one labelled for an unknown app is pruned.
                    let more = try #require(try await scheduler.nextOffers(timeout: .seconds(15)).first)
                    var foreign = TestTasks.command("foreign", "sleep 600", agent: more.agentID)
                    foreign.labels = Labels(labels: [Label(key: "team", value: "x")])
                    var legacy = TestTasks.command("legacy-0", "sleep 600", agent: more.agentID)
                    legacy.labels = Labels(labels: [Label(key: TaskLabel.app, value: "legacy"), Label(key: TaskLabel.spec, value: "0123456789abcdef")])
                    try await scheduler.launch([foreign, legacy], on: [more])
                    try await scheduler.update("legacy-0", .taskRunning)
                    let markdown = try await Self.diff(["--repo", dir, "--master", cluster.master.description, "--output", "markdown"])
                    #expect(markdown.status == 2)
                    #expect(markdown.stdout.contains("**Plan:** 0 to create, 0 to update, 0 to scale, 1 to delete, 3 unchanged.\n"))
                    #expect(markdown.stdout.contains("| - | `legacy` | App | delete | 1 instance |  |\n"))
                    #expect(!markdown.stdout.contains("foreign"))
                    await scheduler.disconnect()
                }
            }
        }
    }
}
