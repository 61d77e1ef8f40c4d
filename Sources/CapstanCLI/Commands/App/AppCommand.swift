import ArgumentParser
import CapstanAPI
import CapstanAPIClient
import CapstanCore
import CapstanReconciler
import Foundation

/// `capstan app list` and `capstan app get APP`: the reconciler's apps, as Argo CD's `app list` / `app get` show them.
struct AppCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "app", abstract: "List the reconciler's apps, or show one with its tasks and recent history.",
        subcommands: [AppList.self, AppGet.self])
}

struct AppList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "One line per app: sync phase, healthy/running/desired instances, commits.", aliases: ["ls"])

    @OptionGroup var options: ReconcilerOptions

    func run() async throws {
        try await ReconcilerOptions.reportingErrors(of: "app list") {
            let status = try await options.client().status()
            try options.output.write(status.apps) { AppView.list(status.apps) }
        }
    }
}

struct AppGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Show one app: phase and why, desired and running commits, each task (agent, state, health, ports), its volumes and history.",
        discussion: "Exits 1 when no app of that name is deployed or remembered.")

    @Argument(help: "The app's name (metadata.name in its manifest).")
    var app: String

    @OptionGroup var options: ReconcilerOptions

    func run() async throws {
        try await ReconcilerOptions.reportingErrors(of: "app get") {
            let client = try await options.client()
            let status = try await client.status()
            let history = try await client.history(app: app, limit: 10).entries
            guard let found = status.apps.first(where: { $0.name == app }) else {
                throw CapstanError(
                    .notFound,
                    history.isEmpty
                        ? "no app named '\(app)': it is not in git at \(status.appliedCommit ?? "the applied commit") and has no history"
                        : "'\(app)' is no longer deployed (its last event: \(history[0].event.rawValue) at \(history[0].commit)); see capstan history \(app)")
            }
            let tasks = try await AppView.tasks(of: app, master: options.master, authorization: try options.credentials.authorization(), tls: try options.tls.client())
            let volumes = (status.volumes ?? []).filter { $0.app == app }
            let detail = AppDetail(app: found, tasks: tasks, volumes: volumes, history: history)
            try options.output.write(detail) { AppView.detail(detail) }
        }
    }
}

/// What `capstan app get --output json` prints.
struct AppDetail: Codable {
    var app: AppStatus
    var tasks: [AppTask]
    var volumes: [VolumeStatus]
    var history: [HistoryEntry]
}

/// One task of an app, as `capstan app get` shows it.
struct AppTask: Codable {
    var id: String
    var state: String
    var agent: String
    var hostname: String?
    var healthy: Bool?
    var commit: String?
    var slot: String?
    var ports: [UInt64]
    var ips: [String]
    /// The message of the task's latest status (a health check's error, a launch failure).
    var message: String?
}

enum AppView {
    static func list(_ apps: [AppStatus]) -> String {
        guard !apps.isEmpty else { return "no apps\n" }
        var rows = [["APP", "KIND", "PHASE", "HEALTHY/RUNNING/DESIRED", "DESIRED", "RUNNING"]]
        for app in apps {
            rows.append([
                app.name, app.kind, app.phaseText, "\(app.healthyInstances)/\(app.runningInstances)/\(app.desiredInstances)",
                app.desiredCommit ?? "-", app.runningCommit ?? "-",
            ])
        }
        return TextTable.render(rows).joined(separator: "\n") + "\n"
    }

    static func detail(_ detail: AppDetail) -> String {
        let app = detail.app
        var lines = [
            "name:      \(app.name) (\(app.kind))",
            "phase:     \(app.phase.rawValue)\(app.reason.map { ": \($0)" } ?? "")",
            "instances: \(app.healthyInstances) healthy, \(app.runningInstances) running, \(app.desiredInstances) desired",
            "commits:   desired \(app.desiredCommit ?? "-"), running \(app.runningCommit ?? "-")",
        ]
        if app.suspended { lines.append("suspended: yes (capstan resume \(app.name) reconciles it again)") }
        if let pinned = app.pinned { lines.append("pinned:    \(pinned) (capstan rollback \(app.name) --clear follows HEAD again)") }
        lines.append("")
        if detail.tasks.isEmpty {
            lines.append("no live tasks")
        } else {
            var rows = [["TASK", "STATE", "HEALTH", "AGENT", "PORTS", "IPS", "COMMIT", "MESSAGE"]]
            for task in detail.tasks {
                rows.append([
                    task.id + (task.slot.map { " (slot \($0))" } ?? ""), task.state,
                    task.healthy.map { $0 ? "healthy" : "unhealthy" } ?? "-", task.hostname ?? task.agent,
                    task.ports.isEmpty ? "-" : task.ports.map(String.init).joined(separator: ","),
                    task.ips.isEmpty ? "-" : task.ips.joined(separator: ","), task.commit ?? "-", task.message ?? "-",
                ])
            }
            lines += TextTable.render(rows)
        }
        if !detail.volumes.isEmpty {
            lines.append("")
            var rows = [["VOLUME", "SIZE", "AGENT", "STATE"]]
            for volume in detail.volumes {
                rows.append([volume.id, "\(volume.sizeMiB) MiB", volume.agent ?? "-", volume.action])
            }
            lines += TextTable.render(rows)
        }
        if !detail.history.isEmpty {
            lines.append("")
            lines.append("recent history (newest first):")
            for entry in detail.history {
                lines.append("  \(entry.commit)  \(entry.event.rawValue)  \(entry.message)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The app's live tasks on the master (GET_STATE: tasks and the agents' hostnames).
    static func tasks(of app: String, master text: String, authorization: String?, tls: ClientTLS?) async throws -> [AppTask] {
        let master = try await MasterLeader.resolve(text, flag: "--master", tls: tls)
        let state: OperatorResponse.GetState
        do {
            state = try await LiveCluster(master: master, poster: try JSONPoster(tls: tls, authorization: authorization)).state()
        } catch let error as CapstanError where error.code == .unavailable || error.code == .timeout {
            throw CapstanError(.unavailable, "cannot reach the master at \(master): \(await ConnectionProbe.reason(master.description))")
        }
        var hostnames: [AgentID: String] = [:]
        for agent in state.getAgents?.agents ?? [] {
            if let id = agent.agentInfo.id { hostnames[id] = agent.agentInfo.hostname }
        }
        let list = state.getTasks
        let live = (list?.pendingTasks ?? []) + (list?.tasks ?? []) + (list?.unreachableTasks ?? [])
        return live.compactMap { task -> AppTask? in
            let labels = task.labelValues
            guard labels[TaskLabel.app] == app, !task.state.isTerminal else { return nil }
            let latest = task.statuses.last
            let ports = ((try? Resources(mesos: task.resources)) ?? Resources()).ranges("ports").flatMap { Array($0.begin...$0.end) }
            let ips = latest?.containerStatus?.networkInfos.flatMap { $0.ipAddresses.compactMap(\.ipAddress) } ?? []
            return AppTask(
                id: task.taskID.value, state: task.state.rawValue, agent: task.agentID.value, hostname: hostnames[task.agentID],
                healthy: latest?.healthy, commit: labels[TaskLabel.commit], slot: labels[TaskLabel.slot], ports: ports, ips: ips,
                message: latest?.message)
        }.sorted { $0.id < $1.id }
    }
}
