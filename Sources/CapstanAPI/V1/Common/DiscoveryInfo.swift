/// `DiscoveryInfo`: service discovery information for a task or executor.
public struct DiscoveryInfo: Codable, Sendable, Hashable {
    /// `DiscoveryInfo.Visibility`.
    public enum Visibility: String, MesosEnum {
        case framework = "FRAMEWORK"
        case cluster = "CLUSTER"
        case external = "EXTERNAL"
    }

    public var visibility: Visibility
    public var name: String?
    public var environment: String?
    public var location: String?
    public var version: String?
    public var ports: Ports?
    public var labels: Labels?

    public init(
        visibility: Visibility, name: String? = nil, environment: String? = nil, location: String? = nil,
        version: String? = nil, ports: Ports? = nil, labels: Labels? = nil
    ) {
        self.visibility = visibility
        self.name = name
        self.environment = environment
        self.location = location
        self.version = version
        self.ports = ports
        self.labels = labels
    }
}

/// `Ports`.
public struct Ports: Codable, Sendable, Hashable {
    @Repeated public var ports: [Port]

    public init(ports: [Port] = []) { self.ports = ports }
}

/// `Port`: a named port for service discovery.
public struct Port: Codable, Sendable, Hashable {
    public var number: UInt32
    public var name: String?
    public var `protocol`: String?
    public var visibility: DiscoveryInfo.Visibility?
    public var labels: Labels?

    enum CodingKeys: String, CodingKey { case number, name, `protocol`, visibility, labels }

    public init(
        number: UInt32, name: String? = nil, protocol: String? = nil, visibility: DiscoveryInfo.Visibility? = nil,
        labels: Labels? = nil
    ) {
        self.number = number
        self.name = name
        self.protocol = `protocol`
        self.visibility = visibility
        self.labels = labels
    }
}
