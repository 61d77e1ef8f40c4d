import CapstanCore

/// `mesos.v1.agent.Response`: the agent's answer to an operator call.
public struct AgentOperatorResponse: Codable, Sendable, Hashable {
    /// `Response.Type`.
    public enum Kind: String, MesosEnum {
        case unknown = "UNKNOWN"
        case getHealth = "GET_HEALTH"
        case getFlags = "GET_FLAGS"
        case getVersion = "GET_VERSION"
        case getMetrics = "GET_METRICS"
        case getLoggingLevel = "GET_LOGGING_LEVEL"
        case listFiles = "LIST_FILES"
        case readFile = "READ_FILE"
        case getState = "GET_STATE"
        case getContainers = "GET_CONTAINERS"
        case getFrameworks = "GET_FRAMEWORKS"
        case getExecutors = "GET_EXECUTORS"
        case getOperations = "GET_OPERATIONS"
        case getTasks = "GET_TASKS"
        case getAgent = "GET_AGENT"
        case getResourceProviders = "GET_RESOURCE_PROVIDERS"
        case waitNestedContainer = "WAIT_NESTED_CONTAINER"
        case waitContainer = "WAIT_CONTAINER"
    }

    public typealias GetHealth = OperatorResponse.GetHealth
    public typealias GetFlags = OperatorResponse.GetFlags
    public typealias GetVersion = OperatorResponse.GetVersion
    public typealias GetMetrics = OperatorResponse.GetMetrics
    public typealias GetLoggingLevel = OperatorResponse.GetLoggingLevel
    public typealias ListFiles = OperatorResponse.ListFiles
    public typealias ReadFile = OperatorResponse.ReadFile

    public var type: Kind?
    public var getHealth: GetHealth?
    public var getFlags: GetFlags?
    public var getVersion: GetVersion?
    public var getMetrics: GetMetrics?
    public var getLoggingLevel: GetLoggingLevel?
    public var listFiles: ListFiles?
    public var readFile: ReadFile?
    public var getState: GetState?
    public var getContainers: GetContainers?
    public var getFrameworks: GetFrameworks?
    public var getExecutors: GetExecutors?
    public var getTasks: GetTasks?
    public var getAgent: GetAgent?
    public var waitContainer: WaitContainer?

    enum CodingKeys: String, CodingKey {
        case type
        case getHealth = "get_health"
        case getFlags = "get_flags"
        case getVersion = "get_version"
        case getMetrics = "get_metrics"
        case getLoggingLevel = "get_logging_level"
        case listFiles = "list_files"
        case readFile = "read_file"
        case getState = "get_state"
        case getContainers = "get_containers"
        case getFrameworks = "get_frameworks"
        case getExecutors = "get_executors"
        case getTasks = "get_tasks"
        case getAgent = "get_agent"
        case waitContainer = "wait_container"
    }

    public init(
        type: Kind?, getHealth: GetHealth? = nil, getFlags: GetFlags? = nil, getVersion: GetVersion? = nil,
        getMetrics: GetMetrics? = nil, getLoggingLevel: GetLoggingLevel? = nil, listFiles: ListFiles? = nil,
        readFile: ReadFile? = nil, getState: GetState? = nil, getContainers: GetContainers? = nil,
        getFrameworks: GetFrameworks? = nil, getExecutors: GetExecutors? = nil, getTasks: GetTasks? = nil,
        getAgent: GetAgent? = nil, waitContainer: WaitContainer? = nil
    ) {
        self.type = type
        self.getHealth = getHealth
        self.getFlags = getFlags
        self.getVersion = getVersion
        self.getMetrics = getMetrics
        self.getLoggingLevel = getLoggingLevel
        self.listFiles = listFiles
        self.readFile = readFile
        self.getState = getState
        self.getContainers = getContainers
        self.getFrameworks = getFrameworks
        self.getExecutors = getExecutors
        self.getTasks = getTasks
        self.getAgent = getAgent
        self.waitContainer = waitContainer
    }
}
