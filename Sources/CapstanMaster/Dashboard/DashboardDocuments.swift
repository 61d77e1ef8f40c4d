import Foundation

/// What the master dashboard's summary endpoint answers (`GET /api/v1/dashboard/summary`): the master, its agents
/// with their resources, its frameworks and how many tasks are in each state. No task lists: those come a page at a
/// time from ``DashboardTaskPage``. JSON keys are the property names (camelCase).
public struct DashboardSummary: Codable, Sendable, Equatable {
    public var masterID: String
    public var hostname: String
    public var version: String
    public var startedAt: Double
    public var agents: [DashboardAgent]
    public var frameworks: [DashboardFramework]
    /// Task counts by Mesos state name (`TASK_RUNNING`), active and completed tasks together.
    public var taskCounts: [String: Int]
    /// Cluster-wide resources: the sum over reachable agents.
    public var resources: DashboardResources
}

/// CPUs, memory (MiB), disk (MiB) and GPUs as Mesos' web UI tabulates them: total, used, offered and idle.
public struct DashboardResources: Codable, Sendable, Equatable {
    public struct Amounts: Codable, Sendable, Equatable {
        public var cpus: Double
        public var mem: Double
        public var disk: Double
        public var gpus: Double
    }

    public var total: Amounts
    public var used: Amounts
    public var offered: Amounts
    public var idle: Amounts
}

public struct DashboardAgent: Codable, Sendable, Equatable {
    public var id: String
    public var hostname: String
    /// `host:port` of the agent's HTTP API (its files API serves the sandboxes).
    public var endpoint: String
    public var active: Bool
    /// `name:value` attribute texts, as the agent's `--attributes` flag writes them.
    public var attributes: [String]
    public var resources: DashboardResources
    /// Named resources beyond cpus/mem/disk/gpus (ports) in `Resources` text form.
    public var other: String
    /// The agent's persistent volumes: `ID size MB (role role, at path)`.
    public var volumes: [String] = []
}

public struct DashboardFramework: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var role: String
    public var active: Bool
    public var activeTasks: Int
    public var webuiURL: String?
}

/// One page of tasks (`GET /api/v1/dashboard/tasks?offset=&limit=&state=&q=`): `total` is how many match the filter.
public struct DashboardTaskPage: Codable, Sendable, Equatable {
    public var offset: Int
    public var limit: Int
    public var total: Int
    public var tasks: [DashboardTask]
}

public struct DashboardTask: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var frameworkID: String
    public var agentID: String
    public var agentHostname: String?
    public var state: String
    /// false once the task is terminal (a completed task).
    public var active: Bool
    /// The last health check result; nil without a health check (or before its first result).
    public var healthy: Bool?
    /// The message of the newest status update (health check output, failure reason).
    public var message: String?
    public var ports: [String]
    public var ips: [String]
    /// The `capstan.app` and `capstan.commit` labels, when the reconciler launched the task.
    public var app: String?
    public var commit: String?
    public var updatedAt: Double?
    /// The agent's sandbox page for this task's sandbox (browse, and tail stdout/stderr); nil when the agent is gone.
    public var sandboxURL: String?
}

/// The task filter of ``DashboardTaskPage``: `active`, `completed`, `all` or one Mesos state name.
public struct DashboardTaskQuery: Sendable, Equatable {
    public var offset: Int
    public var limit: Int
    public var state: String
    /// A case-insensitive substring of the task's ID, name, agent host name or app label.
    public var text: String

    public static let defaultLimit = 50
    public static let maxLimit = 500

    public init(offset: Int = 0, limit: Int = DashboardTaskQuery.defaultLimit, state: String = "active", text: String = "") {
        self.offset = offset
        self.limit = limit
        self.state = state
        self.text = text
    }
}
