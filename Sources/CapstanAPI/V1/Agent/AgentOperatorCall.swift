import CapstanCore

/// `mesos.v1.agent.Call`: an operator call POSTed to the agent's `/api/v1`.
public struct AgentOperatorCall: Codable, Sendable, Hashable {
    /// `Call.WaitContainer`.
    public typealias WaitContainer = ContainerTarget
    /// `Call.RemoveContainer`.
    public typealias RemoveContainer = ContainerTarget

    /// `Call.Type`. Every type parses; the agent answers the ones it does not implement as unsupported.
    public enum Kind: String, MesosEnum {
        case unknown = "UNKNOWN"
        case getHealth = "GET_HEALTH"
        case getFlags = "GET_FLAGS"
        case getVersion = "GET_VERSION"
        case getMetrics = "GET_METRICS"
        case getLoggingLevel = "GET_LOGGING_LEVEL"
        case setLoggingLevel = "SET_LOGGING_LEVEL"
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
        case launchNestedContainer = "LAUNCH_NESTED_CONTAINER"
        case waitNestedContainer = "WAIT_NESTED_CONTAINER"
        case killNestedContainer = "KILL_NESTED_CONTAINER"
        case removeNestedContainer = "REMOVE_NESTED_CONTAINER"
        case launchNestedContainerSession = "LAUNCH_NESTED_CONTAINER_SESSION"
        case attachContainerInput = "ATTACH_CONTAINER_INPUT"
        case attachContainerOutput = "ATTACH_CONTAINER_OUTPUT"
        case launchContainer = "LAUNCH_CONTAINER"
        case waitContainer = "WAIT_CONTAINER"
        case killContainer = "KILL_CONTAINER"
        case removeContainer = "REMOVE_CONTAINER"
        case addResourceProviderConfig = "ADD_RESOURCE_PROVIDER_CONFIG"
        case updateResourceProviderConfig = "UPDATE_RESOURCE_PROVIDER_CONFIG"
        case removeResourceProviderConfig = "REMOVE_RESOURCE_PROVIDER_CONFIG"
        case markResourceProviderGone = "MARK_RESOURCE_PROVIDER_GONE"
        case pruneImages = "PRUNE_IMAGES"
    }

    /// `Call.GetContainers`.
    public struct GetContainers: Codable, Sendable, Hashable {
        public var showNested: Bool?
        public var showStandalone: Bool?

        enum CodingKeys: String, CodingKey {
            case showNested = "show_nested"
            case showStandalone = "show_standalone"
        }

        public init(showNested: Bool? = nil, showStandalone: Bool? = nil) {
            self.showNested = showNested
            self.showStandalone = showStandalone
        }
    }

    /// `Call.KillContainer` (and the deprecated `KillNestedContainer`).
    public struct KillContainer: Codable, Sendable, Hashable {
        public var containerID: ContainerID
        public var signal: Int32?

        enum CodingKeys: String, CodingKey {
            case containerID = "container_id"
            case signal
        }

        public init(containerID: ContainerID, signal: Int32? = nil) {
            self.containerID = containerID
            self.signal = signal
        }
    }

    /// `Call.WaitContainer` / `Call.RemoveContainer` (and their deprecated nested forms).
    public struct ContainerTarget: Codable, Sendable, Hashable {
        public var containerID: ContainerID

        enum CodingKeys: String, CodingKey { case containerID = "container_id" }

        public init(containerID: ContainerID) { self.containerID = containerID }
    }

    public var type: Kind?
    public var getMetrics: OperatorCall.GetMetrics?
    public var setLoggingLevel: OperatorCall.SetLoggingLevel?
    public var listFiles: OperatorCall.ListFiles?
    public var readFile: OperatorCall.ReadFile?
    public var getContainers: GetContainers?
    public var waitContainer: ContainerTarget?
    public var killContainer: KillContainer?
    public var removeContainer: ContainerTarget?

    enum CodingKeys: String, CodingKey {
        case type
        case getMetrics = "get_metrics"
        case setLoggingLevel = "set_logging_level"
        case listFiles = "list_files"
        case readFile = "read_file"
        case getContainers = "get_containers"
        case waitContainer = "wait_container"
        case killContainer = "kill_container"
        case removeContainer = "remove_container"
    }

    public init(
        type: Kind?, getMetrics: OperatorCall.GetMetrics? = nil, setLoggingLevel: OperatorCall.SetLoggingLevel? = nil,
        listFiles: OperatorCall.ListFiles? = nil, readFile: OperatorCall.ReadFile? = nil,
        getContainers: GetContainers? = nil, waitContainer: ContainerTarget? = nil,
        killContainer: KillContainer? = nil, removeContainer: ContainerTarget? = nil
    ) {
        self.type = type
        self.getMetrics = getMetrics
        self.setLoggingLevel = setLoggingLevel
        self.listFiles = listFiles
        self.readFile = readFile
        self.getContainers = getContainers
        self.waitContainer = waitContainer
        self.killContainer = killContainer
        self.removeContainer = removeContainer
    }
}
