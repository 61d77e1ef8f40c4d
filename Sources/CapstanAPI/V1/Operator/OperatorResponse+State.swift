import CapstanCore

extension OperatorResponse {
    /// `Response.GetState`: tasks, executors, frameworks and agents in one answer.
    public struct GetState: Codable, Sendable, Hashable {
        public var getTasks: GetTasks?
        public var getExecutors: GetExecutors?
        public var getFrameworks: GetFrameworks?
        public var getAgents: GetAgents?

        enum CodingKeys: String, CodingKey {
            case getTasks = "get_tasks"
            case getExecutors = "get_executors"
            case getFrameworks = "get_frameworks"
            case getAgents = "get_agents"
        }

        public init(
            getTasks: GetTasks? = nil, getExecutors: GetExecutors? = nil, getFrameworks: GetFrameworks? = nil,
            getAgents: GetAgents? = nil
        ) {
            self.getTasks = getTasks
            self.getExecutors = getExecutors
            self.getFrameworks = getFrameworks
            self.getAgents = getAgents
        }
    }

    /// `Response.GetAgents`.
    public struct GetAgents: Codable, Sendable, Hashable {
        /// `GetAgents.Agent`.
        public struct Agent: Codable, Sendable, Hashable {
            public var agentInfo: AgentInfo
            public var active: Bool
            public var deactivated: Bool?
            public var version: String
            public var pid: String?
            public var registeredTime: TimeInfo?
            public var reregisteredTime: TimeInfo?
            @Repeated public var totalResources: [MesosResource]
            @Repeated public var allocatedResources: [MesosResource]
            @Repeated public var offeredResources: [MesosResource]
            @Repeated public var capabilities: [AgentInfo.Capability]

            enum CodingKeys: String, CodingKey {
                case agentInfo = "agent_info"
                case active, deactivated, version, pid
                case registeredTime = "registered_time"
                case reregisteredTime = "reregistered_time"
                case totalResources = "total_resources"
                case allocatedResources = "allocated_resources"
                case offeredResources = "offered_resources"
                case capabilities
            }

            public init(
                agentInfo: AgentInfo, active: Bool, deactivated: Bool? = nil, version: String, pid: String? = nil,
                registeredTime: TimeInfo? = nil, reregisteredTime: TimeInfo? = nil,
                totalResources: [MesosResource] = [], allocatedResources: [MesosResource] = [],
                offeredResources: [MesosResource] = [], capabilities: [AgentInfo.Capability] = []
            ) {
                self.agentInfo = agentInfo
                self.active = active
                self.deactivated = deactivated
                self.version = version
                self.pid = pid
                self.registeredTime = registeredTime
                self.reregisteredTime = reregisteredTime
                self.totalResources = totalResources
                self.allocatedResources = allocatedResources
                self.offeredResources = offeredResources
                self.capabilities = capabilities
            }
        }

        @Repeated public var agents: [Agent]
        @Repeated public var recoveredAgents: [AgentInfo]

        enum CodingKeys: String, CodingKey {
            case agents
            case recoveredAgents = "recovered_agents"
        }

        public init(agents: [Agent] = [], recoveredAgents: [AgentInfo] = []) {
            self.agents = agents
            self.recoveredAgents = recoveredAgents
        }
    }

    /// `Response.GetFrameworks`.
    public struct GetFrameworks: Codable, Sendable, Hashable {
        /// `GetFrameworks.Framework`.
        public struct Framework: Codable, Sendable, Hashable {
            public var frameworkInfo: FrameworkInfo
            public var active: Bool
            public var connected: Bool
            /// Required since Mesos 1.2; absent from 1.0/1.1 masters, so optional here.
            public var recovered: Bool?
            public var registeredTime: TimeInfo?
            public var reregisteredTime: TimeInfo?
            public var unregisteredTime: TimeInfo?
            @Repeated public var offers: [Offer]
            @Repeated public var inverseOffers: [InverseOffer]
            @Repeated public var allocatedResources: [MesosResource]
            @Repeated public var offeredResources: [MesosResource]
            /// Capstan's addition (`capstan_withheld_agents`): agents never offered to this framework, and why.
            public var withheldAgents: WithheldAgents?

            enum CodingKeys: String, CodingKey {
                case frameworkInfo = "framework_info"
                case active, connected, recovered
                case registeredTime = "registered_time"
                case reregisteredTime = "reregistered_time"
                case unregisteredTime = "unregistered_time"
                case offers
                case inverseOffers = "inverse_offers"
                case allocatedResources = "allocated_resources"
                case offeredResources = "offered_resources"
                case withheldAgents = "capstan_withheld_agents"
            }

            public init(
                frameworkInfo: FrameworkInfo, active: Bool, connected: Bool, recovered: Bool? = nil,
                registeredTime: TimeInfo? = nil, reregisteredTime: TimeInfo? = nil,
                unregisteredTime: TimeInfo? = nil, offers: [Offer] = [], inverseOffers: [InverseOffer] = [],
                allocatedResources: [MesosResource] = [], offeredResources: [MesosResource] = [],
                withheldAgents: WithheldAgents? = nil
            ) {
                self.frameworkInfo = frameworkInfo
                self.active = active
                self.connected = connected
                self.recovered = recovered
                self.registeredTime = registeredTime
                self.reregisteredTime = reregisteredTime
                self.unregisteredTime = unregisteredTime
                self.offers = offers
                self.inverseOffers = inverseOffers
                self.allocatedResources = allocatedResources
                self.offeredResources = offeredResources
                self.withheldAgents = withheldAgents
            }
        }

        @Repeated public var frameworks: [Framework]
        @Repeated public var completedFrameworks: [Framework]
        @Repeated public var recoveredFrameworks: [FrameworkInfo]

        enum CodingKeys: String, CodingKey {
            case frameworks
            case completedFrameworks = "completed_frameworks"
            case recoveredFrameworks = "recovered_frameworks"
        }

        public init(
            frameworks: [Framework] = [], completedFrameworks: [Framework] = [],
            recoveredFrameworks: [FrameworkInfo] = []
        ) {
            self.frameworks = frameworks
            self.completedFrameworks = completedFrameworks
            self.recoveredFrameworks = recoveredFrameworks
        }
    }

    /// `Response.GetExecutors`.
    public struct GetExecutors: Codable, Sendable, Hashable {
        /// `GetExecutors.Executor`.
        public struct Executor: Codable, Sendable, Hashable {
            public var executorInfo: ExecutorInfo
            public var agentID: AgentID

            enum CodingKeys: String, CodingKey {
                case executorInfo = "executor_info"
                case agentID = "agent_id"
            }

            public init(executorInfo: ExecutorInfo, agentID: AgentID) {
                self.executorInfo = executorInfo
                self.agentID = agentID
            }
        }

        @Repeated public var executors: [Executor]
        @Repeated public var orphanExecutors: [Executor]

        enum CodingKeys: String, CodingKey {
            case executors
            case orphanExecutors = "orphan_executors"
        }

        public init(executors: [Executor] = [], orphanExecutors: [Executor] = []) {
            self.executors = executors
            self.orphanExecutors = orphanExecutors
        }
    }

    /// `Response.GetTasks`.
    public struct GetTasks: Codable, Sendable, Hashable {
        @Repeated public var pendingTasks: [MesosTask]
        @Repeated public var tasks: [MesosTask]
        @Repeated public var unreachableTasks: [MesosTask]
        @Repeated public var completedTasks: [MesosTask]
        @Repeated public var orphanTasks: [MesosTask]

        enum CodingKeys: String, CodingKey {
            case pendingTasks = "pending_tasks"
            case tasks
            case unreachableTasks = "unreachable_tasks"
            case completedTasks = "completed_tasks"
            case orphanTasks = "orphan_tasks"
        }

        public init(
            pendingTasks: [MesosTask] = [], tasks: [MesosTask] = [], unreachableTasks: [MesosTask] = [],
            completedTasks: [MesosTask] = [], orphanTasks: [MesosTask] = []
        ) {
            self.pendingTasks = pendingTasks
            self.tasks = tasks
            self.unreachableTasks = unreachableTasks
            self.completedTasks = completedTasks
            self.orphanTasks = orphanTasks
        }
    }
}
