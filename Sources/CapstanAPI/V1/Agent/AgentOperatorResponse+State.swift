import CapstanCore

extension AgentOperatorResponse {
    /// `Response.GetState`.
    public struct GetState: Codable, Sendable, Hashable {
        public var getTasks: GetTasks?
        public var getExecutors: GetExecutors?
        public var getFrameworks: GetFrameworks?

        enum CodingKeys: String, CodingKey {
            case getTasks = "get_tasks"
            case getExecutors = "get_executors"
            case getFrameworks = "get_frameworks"
        }

        public init(getTasks: GetTasks? = nil, getExecutors: GetExecutors? = nil, getFrameworks: GetFrameworks? = nil) {
            self.getTasks = getTasks
            self.getExecutors = getExecutors
            self.getFrameworks = getFrameworks
        }
    }

    /// `Response.GetContainers`.
    public struct GetContainers: Codable, Sendable, Hashable {
        /// `GetContainers.Container`.
        public struct Container: Codable, Sendable, Hashable {
            public var frameworkID: FrameworkID?
            public var executorID: ExecutorID?
            public var executorName: String?
            public var containerID: ContainerID
            public var containerStatus: ContainerStatus?
            public var resourceStatistics: ResourceStatistics?
            /// Capstan's addition: the container's sandbox, as the files API serves it.
            public var directory: String?
            /// Capstan's addition (`capstan_gpus`): the GPUs the container holds, with their usage.
            public var gpus: [ContainerGPU]?

            enum CodingKeys: String, CodingKey {
                case frameworkID = "framework_id"
                case executorID = "executor_id"
                case executorName = "executor_name"
                case containerID = "container_id"
                case containerStatus = "container_status"
                case resourceStatistics = "resource_statistics"
                case directory
                case gpus = "capstan_gpus"
            }

            public init(
                frameworkID: FrameworkID? = nil, executorID: ExecutorID? = nil, executorName: String? = nil,
                containerID: ContainerID, containerStatus: ContainerStatus? = nil,
                resourceStatistics: ResourceStatistics? = nil, directory: String? = nil, gpus: [ContainerGPU]? = nil
            ) {
                self.frameworkID = frameworkID
                self.executorID = executorID
                self.executorName = executorName
                self.containerID = containerID
                self.containerStatus = containerStatus
                self.resourceStatistics = resourceStatistics
                self.directory = directory
                self.gpus = gpus
            }
        }

        @Repeated public var containers: [Container]

        public init(containers: [Container] = []) { self.containers = containers }
    }

    /// `Response.GetFrameworks`.
    public struct GetFrameworks: Codable, Sendable, Hashable {
        /// `GetFrameworks.Framework`.
        public struct Framework: Codable, Sendable, Hashable {
            public var frameworkInfo: FrameworkInfo

            enum CodingKeys: String, CodingKey { case frameworkInfo = "framework_info" }

            public init(frameworkInfo: FrameworkInfo) { self.frameworkInfo = frameworkInfo }
        }

        @Repeated public var frameworks: [Framework]
        @Repeated public var completedFrameworks: [Framework]

        enum CodingKeys: String, CodingKey {
            case frameworks
            case completedFrameworks = "completed_frameworks"
        }

        public init(frameworks: [Framework] = [], completedFrameworks: [Framework] = []) {
            self.frameworks = frameworks
            self.completedFrameworks = completedFrameworks
        }
    }

    /// `Response.GetExecutors`.
    public struct GetExecutors: Codable, Sendable, Hashable {
        /// `GetExecutors.Executor`.
        public struct Executor: Codable, Sendable, Hashable {
            public var executorInfo: ExecutorInfo

            enum CodingKeys: String, CodingKey { case executorInfo = "executor_info" }

            public init(executorInfo: ExecutorInfo) { self.executorInfo = executorInfo }
        }

        @Repeated public var executors: [Executor]
        @Repeated public var completedExecutors: [Executor]

        enum CodingKeys: String, CodingKey {
            case executors
            case completedExecutors = "completed_executors"
        }

        public init(executors: [Executor] = [], completedExecutors: [Executor] = []) {
            self.executors = executors
            self.completedExecutors = completedExecutors
        }
    }

    /// `Response.GetTasks`.
    public struct GetTasks: Codable, Sendable, Hashable {
        @Repeated public var pendingTasks: [MesosTask]
        @Repeated public var queuedTasks: [MesosTask]
        @Repeated public var launchedTasks: [MesosTask]
        @Repeated public var terminatedTasks: [MesosTask]
        @Repeated public var completedTasks: [MesosTask]

        enum CodingKeys: String, CodingKey {
            case pendingTasks = "pending_tasks"
            case queuedTasks = "queued_tasks"
            case launchedTasks = "launched_tasks"
            case terminatedTasks = "terminated_tasks"
            case completedTasks = "completed_tasks"
        }

        public init(
            pendingTasks: [MesosTask] = [], queuedTasks: [MesosTask] = [], launchedTasks: [MesosTask] = [],
            terminatedTasks: [MesosTask] = [], completedTasks: [MesosTask] = []
        ) {
            self.pendingTasks = pendingTasks
            self.queuedTasks = queuedTasks
            self.launchedTasks = launchedTasks
            self.terminatedTasks = terminatedTasks
            self.completedTasks = completedTasks
        }
    }

    /// `Response.GetAgent`.
    public struct GetAgent: Codable, Sendable, Hashable {
        public var agentInfo: AgentInfo?

        enum CodingKeys: String, CodingKey { case agentInfo = "agent_info" }

        public init(agentInfo: AgentInfo? = nil) { self.agentInfo = agentInfo }
    }

    /// `Response.WaitContainer`: how a container ended.
    public struct WaitContainer: Codable, Sendable, Hashable {
        public var exitStatus: Int32?
        public var state: TaskState?
        public var reason: TaskStatus.Reason?
        public var limitation: TaskResourceLimitation?
        public var message: String?

        enum CodingKeys: String, CodingKey {
            case exitStatus = "exit_status"
            case state, reason, limitation, message
        }

        public init(
            exitStatus: Int32? = nil, state: TaskState? = nil, reason: TaskStatus.Reason? = nil,
            limitation: TaskResourceLimitation? = nil, message: String? = nil
        ) {
            self.exitStatus = exitStatus
            self.state = state
            self.reason = reason
            self.limitation = limitation
            self.message = message
        }
    }
}
