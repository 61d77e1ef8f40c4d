import ArgumentParser
import CapstanAPIClient
import CapstanCore
import CapstanGit
import CapstanReconciler
import Foundation
import Glibc
import Logging

/// `capstan diff`: the plan as a dry run, with Terraform's `-detailed-exitcode` (0 no changes, 2 changes, 1 error).
struct DiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show what deploying a git revision would change: create, update, scale, delete, and what will not fit.",
        discussion: """
            Reads the manifests at --revision (default HEAD) under --path in --repo through libgit2, without a \
            checkout, and compares them with --against: `live` (the default) asks the master at --master for its \
            GET_STATE; a path to a JSON file reads a saved GET_STATE answer; anything else is a git revision whose \
            manifests are taken as fully deployed (offline). Tasks are matched by their capstan.app and capstan.spec \
            labels; field-level changes come from the manifests at the commits the tasks carry.

            --path defaults to `Manifests` when the revision has that directory, else the repository root. \
            Only commits are read, never the working tree: commit (not necessarily push) before diffing. A local             repository is read in place (revisions name its own branches and tags, as with `git diff`); a URL is             fetched into a temporary cache first.

            Exit status: 0 no changes, 2 changes, 1 error (invalid manifests are listed as file:line:column on stderr).
            """)

    @Option(help: "The git repository: a local path or a URL (default: the repository containing the current directory).")
    var repo: String?

    @Option(help: "The branch, tag or commit to deploy (default: HEAD).")
    var revision: String?

    @Option(help: "A branch to deploy (its tip); the same as --revision BRANCH.")
    var branch: String?

    @Option(name: .customLong("path"), help: "The manifests' directory inside the repository (default: Manifests if it exists, else the root).")
    var subPath: String?

    @Option(help: "What to compare with: live, a git revision, or a saved GET_STATE JSON file.")
    var against: String = "live"

    @Option(help: "The master for --against live: HOST:PORT, several comma-separated, or etcd://HOST:PORT/PREFIX (the leader is asked).")
    var master: String = "127.0.0.1:5050"

    @Option(
        help: ArgumentHelp(
            "With --against live: the reconciler's API URL, whose suspended apps, pins and completed jobs the plan honours (default: $CAPSTAN_RECONCILER, else the one the master knows, if any).",
            valueName: "url"))
    var reconciler: String?

    @Option(help: "The reconciler's role: its apps' persistent volumes are reserved for it.")
    var role: String = ReconcilerConfiguration.defaultRole

    @Option(help: "Output format: text, json or markdown.")
    var output: PlanRenderer.Format = .text

    @Option(help: ArgumentHelp("Accepted for the same flags as reconcile and up; a diff reads the repository once.", valueName: "duration"))
    var interval: String?

    @OptionGroup var credentials: GitCredentialFlags
    @OptionGroup(title: "Master credentials") var masterCredentials: ClientCredentialFlags
    @OptionGroup(title: "TLS") var tls: TLSFlags

    @Flag(help: "No ANSI colour in text output (colour is used only when stdout is a terminal, and never with NO_COLOR set).")
    var noColor = false

    /// `--master` as HOST:PORT (with several masters or etcd, the leader now); a bad value is an error (exit 1),
    /// like every other failure of diff.
    func parsedMaster() async throws -> HostPort {
        try await MasterLeader.resolve(master, flag: "--master", tls: try tls.client(), defaultPort: 5050)
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        let rendered: (text: String, changes: Bool)
        do {
            rendered = try await diff()
        } catch let failure as DiffFailure {
            FileHandle.standardError.write(Data(failure.text.utf8))
            throw ExitCode(1)
        } catch {
            FileHandle.standardError.write(Data("capstan diff: \(error)\n".utf8))
            throw ExitCode(1)
        }
        FileHandle.standardOutput.write(Data(rendered.text.utf8))
        if rendered.changes { throw ExitCode(2) }
    }

    /// Loads both sides, plans, renders.
    func diff() async throws -> (text: String, changes: Bool) {
        if revision != nil && branch != nil { throw CapstanError(.invalidArgument, "give either --revision or --branch, not both") }
        if let interval { _ = try FlagParsing.duration(interval, flag: "--interval") }
        let master = against == "live" ? try await parsedMaster() : nil
        let repository = try repo ?? Self.enclosingRepository(FileManager.default.currentDirectoryPath)
        // A repository on this machine is read where it lies; a remote one is fetched into a throw-away cache.
        let source: LibGit2Source
        var cache: URL?
        if Self.isLocalRepository(repository) {
            source = LibGit2Source(localRepository: repository)
        } else {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-diff-\(UUID().uuidString).git")
            cache = directory
            source = LibGit2Source(remote: try credentials.remote(url: repository), cachePath: directory.path)
        }
        defer { if let cache { try? FileManager.default.removeItem(at: cache) } }
        try await source.fetch()

        let revision = branch ?? self.revision ?? "HEAD"
        let commit = try await source.resolve(revision)
        let path = try await resolvedPath(source, commit)
        var logger = Logger(label: "capstan.diff")
        logger.logLevel = .warning
        let loader = DesiredStateLoader(source: source, path: path, logger: logger)
        // Against the live cluster the plan honours what the reconciler honours: suspended apps, pins, completed jobs.
        let controls = master == nil ? nil : try await reconcilerControls(master: master!)
        let pinned = try await loader.load(commit: commit, pins: controls?.pins ?? [])
        let desired = try Self.valid(pinned.loaded, revision: revision, state: pinned.desiredState)

        var actual: ClusterSnapshot
        let runningSpecs: [DesiredState]
        let description: String
        if let master {
            actual = try await LiveCluster(master: master, poster: try JSONPoster(tls: try tls.client(), authorization: try masterCredentials.authorization())).snapshot(role: role)
            runningSpecs = await loader.runningSpecs(for: actual)
            description = "live \(master)"
        } else if Self.isFile(against) {
            let data = try Data(contentsOf: URL(fileURLWithPath: against))
            do {
                actual = try ClusterSnapshot(stateJSON: data, role: role)
            } catch {
                throw CapstanError(.invalidArgument, "\(against): \(error)")
            }
            runningSpecs = await loader.runningSpecs(for: actual)
            description = "state \(against)"
        } else {
            let baseCommit = try await source.resolve(against)
            let base = try Self.valid(try await loader.load(commit: baseCommit), revision: against)
            actual = .converged(to: base)
            runningSpecs = [base]
            description = "\(against) (\(baseCommit.short))"
        }

        if let controls {
            for (job, label) in controls.completedJobs { actual.completedJobs[AppName(job)] = label }
        }
        let suspended = Set((controls?.suspended ?? []).map { AppName($0) })
        let plan = Planner.plan(desired: desired, actual: actual, runningSpecs: runningSpecs, suspended: suspended)
        let color = output == .text && !noColor && isatty(STDOUT_FILENO) == 1
            && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        let text = PlanRenderer(against: description, color: color).render(plan, as: output)
        return (text, plan.hasChanges)
    }

    /// The reconciler's controls: from `--reconciler` (or `CAPSTAN_RECONCILER`), which must answer; else from the
    /// reconciler the master knows, if it has one (none registered: nil; one that does not answer: nil, with a warning).
    func reconcilerControls(master: HostPort) async throws -> ReconcilerControls? {
        let poster = try ReconcilerClient.poster(
            timeout: .seconds(5), authorization: try masterCredentials.authorization(), tls: try tls.client())
        if let url = reconciler ?? ReconcilerEndpoint.environment("CAPSTAN_RECONCILER") {
            do {
                return try await ReconcilerClient(baseURL: url, poster: poster).controls()
            } catch {
                throw CapstanError(.unavailable, "cannot read the suspended and pinned apps from the reconciler at \(url): \(error)")
            }
        }
        let client: ReconcilerClient
        do {
            client = try await ReconcilerClient.discover(master: master, poster: poster)
        } catch {
            return nil
        }
        do {
            return try await client.controls()
        } catch {
            FileHandle.standardError.write(Data(
                "capstan diff: warning: the reconciler at \(client.baseURL) did not answer (\(error)); suspended and pinned apps are not known\n".utf8))
            return nil
        }
    }

    /// `--path`, or `Manifests` when the commit has that directory, or the root.
    func resolvedPath(_ source: LibGit2Source, _ commit: CommitID) async throws -> String {
        if let subPath { return subPath }
        return try await source.treeID(at: commit, path: "Manifests") != nil ? "Manifests" : ""
    }

    /// The desired state of a load, or a failure listing its diagnostics.
    static func valid(_ loaded: LoadedManifests, revision: String, state: DesiredState? = nil) throws -> DesiredState {
        if let state = state ?? loaded.desiredState { return state }
        let count = loaded.manifests.diagnostics.count
        var text = loaded.manifests.diagnostics.map { $0.description + "\n" }.joined()
        text += "capstan diff: \(count) error\(count == 1 ? "" : "s") in the manifests at \(revision) (\(loaded.commit.short))\n"
        throw DiffFailure(text: text)
    }

    /// Whether `repository` names a directory on this machine (a path, not a URL or `host:path`).
    static func isLocalRepository(_ repository: String) -> Bool {
        if repository.contains("://") { return false }
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: repository, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    static func isFile(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }

    /// The top directory of the git repository that contains `directory` (one with a `.git` entry).
    static func enclosingRepository(_ directory: String) throws -> String {
        var url = URL(fileURLWithPath: directory).standardizedFileURL
        while true {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent(".git").path) { return url.path }
            let parent = url.deletingLastPathComponent()
            if parent.path == url.path { break }
            url = parent
        }
        throw CapstanError(.notFound, "\(directory) is not inside a git repository; pass --repo")
    }
}

/// A failure whose full text (diagnostics and a last line) is already written for stderr.
struct DiffFailure: Error {
    var text: String
}

extension PlanRenderer.Format: ExpressibleByArgument {}
