import CapstanCore

extension SchedulerCall {
    /// `Call.UpdateFramework`: the same fields as `Call.Subscribe`.
    public typealias UpdateFramework = Subscribe
    /// `Call.AcceptInverseOffers`.
    public typealias AcceptInverseOffers = InverseOffers
    /// `Call.DeclineInverseOffers`.
    public typealias DeclineInverseOffers = InverseOffers

    /// `Call.Subscribe` (also the shape of `Call.UpdateFramework`).
    public struct Subscribe: Codable, Sendable, Hashable {
        public var frameworkInfo: FrameworkInfo
        @Repeated public var suppressedRoles: [String]

        enum CodingKeys: String, CodingKey {
            case frameworkInfo = "framework_info"
            case suppressedRoles = "suppressed_roles"
        }

        public init(frameworkInfo: FrameworkInfo, suppressedRoles: [String] = []) {
            self.frameworkInfo = frameworkInfo
            self.suppressedRoles = suppressedRoles
        }
    }

    /// `Call.Accept`.
    public struct Accept: Codable, Sendable, Hashable {
        @Repeated public var offerIDs: [OfferID]
        @Repeated public var operations: [Offer.Operation]
        public var filters: Filters?

        enum CodingKeys: String, CodingKey {
            case offerIDs = "offer_ids"
            case operations, filters
        }

        public init(offerIDs: [OfferID] = [], operations: [Offer.Operation] = [], filters: Filters? = nil) {
            self.offerIDs = offerIDs
            self.operations = operations
            self.filters = filters
        }
    }

    /// `Call.Decline`.
    public struct Decline: Codable, Sendable, Hashable {
        @Repeated public var offerIDs: [OfferID]
        public var filters: Filters?

        enum CodingKeys: String, CodingKey {
            case offerIDs = "offer_ids"
            case filters
        }

        public init(offerIDs: [OfferID] = [], filters: Filters? = nil) {
            self.offerIDs = offerIDs
            self.filters = filters
        }
    }

    /// `Call.AcceptInverseOffers` / `Call.DeclineInverseOffers`.
    public struct InverseOffers: Codable, Sendable, Hashable {
        @Repeated public var inverseOfferIDs: [OfferID]
        public var filters: Filters?

        enum CodingKeys: String, CodingKey {
            case inverseOfferIDs = "inverse_offer_ids"
            case filters
        }

        public init(inverseOfferIDs: [OfferID] = [], filters: Filters? = nil) {
            self.inverseOfferIDs = inverseOfferIDs
            self.filters = filters
        }
    }

    /// `Call.Revive`: `role` is the Mesos 1.0 field, `roles` its multi-role successor.
    public struct Revive: Codable, Sendable, Hashable {
        public var role: String?
        @Repeated public var roles: [String]

        public init(role: String? = nil, roles: [String] = []) {
            self.role = role
            self.roles = roles
        }
    }

    /// `Call.Suppress`: `role` is the Mesos 1.0 field, `roles` its multi-role successor.
    public struct Suppress: Codable, Sendable, Hashable {
        public var role: String?
        @Repeated public var roles: [String]

        public init(role: String? = nil, roles: [String] = []) {
            self.role = role
            self.roles = roles
        }
    }

    /// `Call.Kill`.
    public struct Kill: Codable, Sendable, Hashable {
        public var taskID: TaskID
        public var agentID: AgentID?
        public var killPolicy: KillPolicy?

        enum CodingKeys: String, CodingKey {
            case taskID = "task_id"
            case agentID = "agent_id"
            case killPolicy = "kill_policy"
        }

        public init(taskID: TaskID, agentID: AgentID? = nil, killPolicy: KillPolicy? = nil) {
            self.taskID = taskID
            self.agentID = agentID
            self.killPolicy = killPolicy
        }
    }

    /// `Call.Shutdown`: shut an executor down.
    public struct Shutdown: Codable, Sendable, Hashable {
        public var executorID: ExecutorID
        public var agentID: AgentID

        enum CodingKeys: String, CodingKey {
            case executorID = "executor_id"
            case agentID = "agent_id"
        }

        public init(executorID: ExecutorID, agentID: AgentID) {
            self.executorID = executorID
            self.agentID = agentID
        }
    }

    /// `Call.Acknowledge`: acknowledge the status update `uuid`.
    public struct Acknowledge: Codable, Sendable, Hashable {
        public var agentID: AgentID
        public var taskID: TaskID
        public var uuid: Base64Bytes

        enum CodingKeys: String, CodingKey {
            case agentID = "agent_id"
            case taskID = "task_id"
            case uuid
        }

        public init(agentID: AgentID, taskID: TaskID, uuid: Base64Bytes) {
            self.agentID = agentID
            self.taskID = taskID
            self.uuid = uuid
        }
    }

    /// `Call.Reconcile`: an empty `tasks` asks for implicit reconciliation of all tasks.
    public struct Reconcile: Codable, Sendable, Hashable {
        /// `Reconcile.Task`.
        public struct Task: Codable, Sendable, Hashable {
            public var taskID: TaskID
            public var agentID: AgentID?

            enum CodingKeys: String, CodingKey {
                case taskID = "task_id"
                case agentID = "agent_id"
            }

            public init(taskID: TaskID, agentID: AgentID? = nil) {
                self.taskID = taskID
                self.agentID = agentID
            }
        }

        @Repeated public var tasks: [Task]

        public init(tasks: [Task] = []) { self.tasks = tasks }
    }

    /// `Call.Message`: opaque data for an executor.
    public struct Message: Codable, Sendable, Hashable {
        public var agentID: AgentID
        public var executorID: ExecutorID
        public var data: Base64Bytes

        enum CodingKeys: String, CodingKey {
            case agentID = "agent_id"
            case executorID = "executor_id"
            case data
        }

        public init(agentID: AgentID, executorID: ExecutorID, data: Base64Bytes) {
            self.agentID = agentID
            self.executorID = executorID
            self.data = data
        }
    }

    /// `Call.Request`.
    public struct Request: Codable, Sendable, Hashable {
        @Repeated public var requests: [MesosRequest]

        public init(requests: [MesosRequest] = []) { self.requests = requests }
    }
}
