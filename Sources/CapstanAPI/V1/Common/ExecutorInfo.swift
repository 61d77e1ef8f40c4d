import CapstanCore

/// `ExecutorInfo`: describes an executor.
public struct ExecutorInfo: Codable, Sendable, Hashable {
    /// `ExecutorInfo.Type`.
    public enum Kind: String, MesosEnum {
        case unknown = "UNKNOWN"
        case `default` = "DEFAULT"
        case custom = "CUSTOM"
    }

    public var type: Kind?
    public var executorID: ExecutorID
    public var frameworkID: FrameworkID?
    public var command: CommandInfo?
    public var container: ContainerInfo?
    @Repeated public var resources: [MesosResource]
    public var name: String?
    /// Deprecated in Mesos, kept so 1.0 clients round-trip.
    public var source: String?
    public var data: Base64Bytes?
    public var discovery: DiscoveryInfo?
    public var shutdownGracePeriod: DurationInfo?
    public var labels: Labels?

    enum CodingKeys: String, CodingKey {
        case type
        case executorID = "executor_id"
        case frameworkID = "framework_id"
        case command, container, resources, name
        case source, data, discovery
        case shutdownGracePeriod = "shutdown_grace_period"
        case labels
    }

    public init(
        type: Kind? = nil, executorID: ExecutorID, frameworkID: FrameworkID? = nil, command: CommandInfo? = nil,
        container: ContainerInfo? = nil, resources: [MesosResource] = [], name: String? = nil, source: String? = nil,
        data: Base64Bytes? = nil, discovery: DiscoveryInfo? = nil, shutdownGracePeriod: DurationInfo? = nil,
        labels: Labels? = nil
    ) {
        self.type = type
        self.executorID = executorID
        self.frameworkID = frameworkID
        self.command = command
        self.container = container
        self.resources = resources
        self.name = name
        self.source = source
        self.data = data
        self.discovery = discovery
        self.shutdownGracePeriod = shutdownGracePeriod
        self.labels = labels
    }
}
