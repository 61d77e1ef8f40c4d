import CapstanCore

/// `mesos.v1.agent.Call`: an operator call POSTed to the agent's `/api/v1`.
public struct AgentOperatorCall: Codable, Sendable, Hashable {
    /// `Call.Type`. Every type parses; the agent answers the ones it does not implement as unsupported.
    public enum Kind: String, MesosEnum {
        case unknown = "UNKNOWN", getHealth = "GET_HEALTH", getFlags = "GET_FLAGS", getVersion = "GET_VERSION"
        case getMetrics = "GET_METRICS", getLoggingLevel = "GET_LOGGING_LEVEL"
        case setLoggingLevel = "SET_LOGGING_LEVEL", listFiles = "LIST_FILES", readFile = "READ_FILE"
        case getState = "GET_STATE", getContainers = "GET_CONTAINERS", getFrameworks = "GET_FRAMEWORKS"
        case getExecutors = "GET_EXECUTORS", getOperations = "GET_OPERATIONS", getTasks = "GET_TASKS"
        case getAgent = "GET_AGENT", getResourceProviders = "GET_RESOURCE_PROVIDERS"
        case launchNestedContainer = "LAUNCH_NESTED_CONTAINER", waitNestedContainer = "WAIT_NESTED_CONTAINER"
        case killNestedContainer = "KILL_NESTED_CONTAINER", removeNestedContainer = "REMOVE_NESTED_CONTAINER"
        case launchNestedContainerSession = "LAUNCH_NESTED_CONTAINER_SESSION"
        case attachContainerInput = "ATTACH_CONTAINER_INPUT", attachContainerOutput = "ATTACH_CONTAINER_OUTPUT"
        case launchContainer = "LAUNCH_CONTAINER", waitContainer = "WAIT_CONTAINER"
        case killContainer = "KILL_CONTAINER", removeContainer = "REMOVE_CONTAINER"
        case addResourceProviderConfig = "ADD_RESOURCE_PROVIDER_CONFIG"
        case updateResourceProviderConfig = "UPDATE_RESOURCE_PROVIDER_CONFIG"
        case removeResourceProviderConfig = "REMOVE_RESOURCE_PROVIDER_CONFIG"
        case markResourceProviderGone = "MARK_RESOURCE_PROVIDER_GONE", pruneImages = "PRUNE_IMAGES"
    }

    /// `Call.GetContainers`.
    public struct GetContainers: Codable, Sendable, Hashable {
        public var showNested: Bool?
        public var showStandalone: Bool?

        enum CodingKeys: String, CodingKey { case showNested = "show_nested", showStandalone = "show_standalone" }

        public init(showNested: Bool? = nil, showStandalone: Bool? = nil) {
            self.showNested = showNested
            self.showStandalone = showStandalone
        }
    }

    /// `Call.KillContainer` (and the deprecated `KillNestedContainer`).
    public struct KillContainer: Codable, Sendable, Hashable {
        public var containerID: ContainerID
        public var signal: Int32?

        enum CodingKeys: String, CodingKey { case containerID = "container_id", signal }

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
        case type, getMetrics = "get_metrics", setLoggingLevel = "set_logging_level", listFiles = "list_files"
        case readFile = "read_file", getContainers = "get_containers", waitContainer = "wait_container"
        case killContainer = "kill_container", removeContainer = "remove_container"
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
