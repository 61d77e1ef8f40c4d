/// `HealthCheck`: a health check for a task (command, HTTP or TCP).
public struct HealthCheck: Codable, Sendable, Hashable {
    /// `HealthCheck.Type` (also `CheckInfo.Type`).
    public enum Kind: String, MesosEnum {
        case unknown = "UNKNOWN"
        case command = "COMMAND"
        case http = "HTTP"
        case tcp = "TCP"
    }

    /// `HealthCheck.HTTPCheckInfo`.
    public struct HTTPCheckInfo: Codable, Sendable, Hashable {
        public var `protocol`: NetworkInfo.IPProtocol?
        public var scheme: String?
        public var port: UInt32
        public var path: String?
        @Repeated public var statuses: [UInt32]

        enum CodingKeys: String, CodingKey { case `protocol`, scheme, port, path, statuses }

        public init(
            protocol: NetworkInfo.IPProtocol? = nil, scheme: String? = nil, port: UInt32, path: String? = nil,
            statuses: [UInt32] = []
        ) {
            self.protocol = `protocol`
            self.scheme = scheme
            self.port = port
            self.path = path
            self.statuses = statuses
        }
    }

    /// `HealthCheck.TCPCheckInfo`.
    public struct TCPCheckInfo: Codable, Sendable, Hashable {
        public var `protocol`: NetworkInfo.IPProtocol?
        public var port: UInt32

        enum CodingKeys: String, CodingKey { case `protocol`, port }

        public init(protocol: NetworkInfo.IPProtocol? = nil, port: UInt32) {
            self.protocol = `protocol`
            self.port = port
        }
    }

    public var delaySeconds: Double?
    public var intervalSeconds: Double?
    public var timeoutSeconds: Double?
    public var consecutiveFailures: UInt32?
    public var gracePeriodSeconds: Double?
    public var type: Kind?
    public var command: CommandInfo?
    public var http: HTTPCheckInfo?
    public var tcp: TCPCheckInfo?

    enum CodingKeys: String, CodingKey {
        case delaySeconds = "delay_seconds"
        case intervalSeconds = "interval_seconds"
        case timeoutSeconds = "timeout_seconds"
        case consecutiveFailures = "consecutive_failures"
        case gracePeriodSeconds = "grace_period_seconds"
        case type, command, http, tcp
    }

    public init(
        type: Kind? = nil, command: CommandInfo? = nil, http: HTTPCheckInfo? = nil, tcp: TCPCheckInfo? = nil,
        delaySeconds: Double? = nil, intervalSeconds: Double? = nil, timeoutSeconds: Double? = nil,
        consecutiveFailures: UInt32? = nil, gracePeriodSeconds: Double? = nil
    ) {
        self.delaySeconds = delaySeconds
        self.intervalSeconds = intervalSeconds
        self.timeoutSeconds = timeoutSeconds
        self.consecutiveFailures = consecutiveFailures
        self.gracePeriodSeconds = gracePeriodSeconds
        self.type = type
        self.command = command
        self.http = http
        self.tcp = tcp
    }
}

/// `CheckInfo`: a non-interpreting check (its result is reported, never acted on).
public struct CheckInfo: Codable, Sendable, Hashable {
    /// `CheckInfo.Command`.
    public struct Command: Codable, Sendable, Hashable {
        public var command: CommandInfo

        public init(command: CommandInfo) { self.command = command }
    }

    /// `CheckInfo.Http`.
    public struct Http: Codable, Sendable, Hashable {
        public var port: UInt32
        public var path: String?

        public init(port: UInt32, path: String? = nil) {
            self.port = port
            self.path = path
        }
    }

    /// `CheckInfo.Tcp`.
    public struct Tcp: Codable, Sendable, Hashable {
        public var port: UInt32

        public init(port: UInt32) { self.port = port }
    }

    public var type: HealthCheck.Kind?
    public var command: Command?
    public var http: Http?
    public var tcp: Tcp?
    public var delaySeconds: Double?
    public var intervalSeconds: Double?
    public var timeoutSeconds: Double?

    enum CodingKeys: String, CodingKey {
        case type, command, http, tcp
        case delaySeconds = "delay_seconds"
        case intervalSeconds = "interval_seconds"
        case timeoutSeconds = "timeout_seconds"
    }

    public init(
        type: HealthCheck.Kind? = nil, command: Command? = nil, http: Http? = nil, tcp: Tcp? = nil,
        delaySeconds: Double? = nil, intervalSeconds: Double? = nil, timeoutSeconds: Double? = nil
    ) {
        self.type = type
        self.command = command
        self.http = http
        self.tcp = tcp
        self.delaySeconds = delaySeconds
        self.intervalSeconds = intervalSeconds
        self.timeoutSeconds = timeoutSeconds
    }
}

/// `CheckStatusInfo`: the latest result of a `CheckInfo`.
public struct CheckStatusInfo: Codable, Sendable, Hashable {
    /// `CheckStatusInfo.Command`.
    public struct Command: Codable, Sendable, Hashable {
        public var exitCode: Int32?

        enum CodingKeys: String, CodingKey { case exitCode = "exit_code" }

        public init(exitCode: Int32? = nil) { self.exitCode = exitCode }
    }

    /// `CheckStatusInfo.Http`.
    public struct Http: Codable, Sendable, Hashable {
        public var statusCode: UInt32?

        enum CodingKeys: String, CodingKey { case statusCode = "status_code" }

        public init(statusCode: UInt32? = nil) { self.statusCode = statusCode }
    }

    /// `CheckStatusInfo.Tcp`.
    public struct Tcp: Codable, Sendable, Hashable {
        public var succeeded: Bool?

        public init(succeeded: Bool? = nil) { self.succeeded = succeeded }
    }

    public var type: HealthCheck.Kind?
    public var command: Command?
    public var http: Http?
    public var tcp: Tcp?

    public init(type: HealthCheck.Kind? = nil, command: Command? = nil, http: Http? = nil, tcp: Tcp? = nil) {
        self.type = type
        self.command = command
        self.http = http
        self.tcp = tcp
    }
}

/// `KillPolicy`: the grace period between the graceful and the forcible kill.
public struct KillPolicy: Codable, Sendable, Hashable {
    public var gracePeriod: DurationInfo?

    enum CodingKeys: String, CodingKey { case gracePeriod = "grace_period" }

    public init(gracePeriod: DurationInfo? = nil) { self.gracePeriod = gracePeriod }
}
