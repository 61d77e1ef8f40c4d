/// `NetworkInfo`: a network a container joins, and the addresses it got.
public struct NetworkInfo: Codable, Sendable, Hashable {
    /// `NetworkInfo.Protocol`.
    public enum IPProtocol: String, MesosEnum {
        case ipv4 = "IPv4"
        case ipv6 = "IPv6"
    }

    /// `NetworkInfo.IPAddress`.
    public struct IPAddress: Codable, Sendable, Hashable {
        public var `protocol`: IPProtocol?
        public var ipAddress: String?

        enum CodingKeys: String, CodingKey {
            case `protocol`
            case ipAddress = "ip_address"
        }

        public init(protocol: IPProtocol? = nil, ipAddress: String? = nil) {
            self.protocol = `protocol`
            self.ipAddress = ipAddress
        }
    }

    /// `NetworkInfo.PortMapping`.
    public struct PortMapping: Codable, Sendable, Hashable {
        public var hostPort: UInt32
        public var containerPort: UInt32
        public var `protocol`: String?

        enum CodingKeys: String, CodingKey {
            case hostPort = "host_port"
            case containerPort = "container_port"
            case `protocol`
        }

        public init(hostPort: UInt32, containerPort: UInt32, protocol: String? = nil) {
            self.hostPort = hostPort
            self.containerPort = containerPort
            self.protocol = `protocol`
        }
    }

    @Repeated public var ipAddresses: [IPAddress]
    public var name: String?
    @Repeated public var groups: [String]
    public var labels: Labels?
    @Repeated public var portMappings: [PortMapping]

    enum CodingKeys: String, CodingKey {
        case ipAddresses = "ip_addresses"
        case name, groups, labels
        case portMappings = "port_mappings"
    }

    public init(
        ipAddresses: [IPAddress] = [], name: String? = nil, groups: [String] = [], labels: Labels? = nil,
        portMappings: [PortMapping] = []
    ) {
        self.ipAddresses = ipAddresses
        self.name = name
        self.groups = groups
        self.labels = labels
        self.portMappings = portMappings
    }
}
