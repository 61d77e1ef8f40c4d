import CapstanCore

/// `ResourceUsage`: usage snapshots of an agent's executors.
public struct ResourceUsage: Codable, Sendable, Hashable {
    /// `ResourceUsage.Executor`.
    public struct Executor: Codable, Sendable, Hashable {
        /// `Executor.Task`.
        public struct Task: Codable, Sendable, Hashable {
            public var name: String
            public var id: TaskID
            @Repeated public var resources: [MesosResource]
            public var labels: Labels?

            public init(name: String, id: TaskID, resources: [MesosResource] = [], labels: Labels? = nil) {
                self.name = name
                self.id = id
                self.resources = resources
                self.labels = labels
            }
        }

        public var executorInfo: ExecutorInfo
        @Repeated public var allocated: [MesosResource]
        public var statistics: ResourceStatistics?
        public var containerID: ContainerID
        @Repeated public var tasks: [Task]

        enum CodingKeys: String, CodingKey {
            case executorInfo = "executor_info"
            case allocated, statistics
            case containerID = "container_id"
            case tasks
        }

        public init(
            executorInfo: ExecutorInfo, allocated: [MesosResource] = [], statistics: ResourceStatistics? = nil,
            containerID: ContainerID, tasks: [Task] = []
        ) {
            self.executorInfo = executorInfo
            self.allocated = allocated
            self.statistics = statistics
            self.containerID = containerID
            self.tasks = tasks
        }
    }

    @Repeated public var executors: [Executor]
    @Repeated public var total: [MesosResource]

    public init(executors: [Executor] = [], total: [MesosResource] = []) {
        self.executors = executors
        self.total = total
    }
}
