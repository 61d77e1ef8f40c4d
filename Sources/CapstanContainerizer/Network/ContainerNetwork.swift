/// A network a container joins (from Mesos' `NetworkInfo`), as the containerizer needs it.
public struct ContainerNetwork: Sendable, Hashable, Codable {
    /// A host port forwarded to a container port.
    public struct PortMapping: Sendable, Hashable, Codable {
        public var hostPort: Int
        public var containerPort: Int
        /// `tcp` or `udp`.
        public var `protocol`: String

        public init(hostPort: Int, containerPort: Int, protocol: String = "tcp") {
            self.hostPort = hostPort
            self.containerPort = containerPort
            self.protocol = `protocol`
        }
    }

    /// The CNI network's name.
    public var name: String
    public var portMappings: [PortMapping]
    /// Extra `CNI_ARGS` pairs (the agent's task and framework IDs); pairs with `;` or `=` in them are left out.
    public var args: [String: String]
    /// The task's `NetworkInfo` as JSON, handed to plugins as `args["org.apache.mesos"].network_info` (as Mesos does).
    public var mesosNetworkInfo: JSONValue?
    /// Addresses asked for (`runtimeConfig.ips`, for plugins that declare the `ips` capability), e.g. `10.99.0.7/24`.
    public var ips: [String]
    /// The interface's MAC address asked for (`runtimeConfig.mac`, for plugins that declare the `mac` capability).
    public var mac: String?

    public init(
        name: String, portMappings: [PortMapping] = [], args: [String: String] = [:], mesosNetworkInfo: JSONValue? = nil,
        ips: [String] = [], mac: String? = nil
    ) {
        self.name = name
        self.portMappings = portMappings
        self.args = args
        self.mesosNetworkInfo = mesosNetworkInfo
        self.ips = ips
        self.mac = mac
    }

    private enum CodingKeys: String, CodingKey { case name, portMappings, args, mesosNetworkInfo, ips, mac }

    /// Decodes a network; `ips` and `mac` may be missing (older checkpoints).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        portMappings = try container.decodeIfPresent([PortMapping].self, forKey: .portMappings) ?? []
        args = try container.decodeIfPresent([String: String].self, forKey: .args) ?? [:]
        mesosNetworkInfo = try container.decodeIfPresent(JSONValue.self, forKey: .mesosNetworkInfo)
        ips = try container.decodeIfPresent([String].self, forKey: .ips) ?? []
        mac = try container.decodeIfPresent(String.self, forKey: .mac)
    }
}

/// A container's attachment to one network, as its plugins reported it.
public struct ContainerNetworkStatus: Sendable, Hashable, Codable {
    public var network: String
    /// The interface inside the container (`eth0`, `eth1` …).
    public var interface: String
    /// The container's addresses on this network, without prefix length.
    public var ipAddresses: [String]

    public init(network: String, interface: String, ipAddresses: [String]) {
        self.network = network
        self.interface = interface
        self.ipAddresses = ipAddresses
    }
}

/// What a CNI result (spec 0.3.0 to 1.0.0) says that Capstan uses.
struct CNIResult: Sendable, Hashable {
    var ipAddresses: [String] = []
    var nameservers: [String] = []
    var search: [String] = []
    var domain: String?

    /// Reads a result; addresses on interfaces outside the container (those without `sandbox`) are left out.
    init(_ document: JSONValue) {
        let interfaces = document["interfaces"]?.arrayValue ?? []
        for ip in document["ips"]?.arrayValue ?? [] {
            guard let address = ip["address"]?.stringValue else { continue }
            if let index = ip["interface"]?.numberValue.map({ Int($0) }), index >= 0, index < interfaces.count,
                (interfaces[index]["sandbox"]?.stringValue ?? "").isEmpty
            {
                continue
            }
            ipAddresses.append(String(address.split(separator: "/").first ?? Substring(address)))
        }
        if let dns = document["dns"] {
            nameservers = (dns["nameservers"]?.arrayValue ?? []).compactMap(\.stringValue)
            search = (dns["search"]?.arrayValue ?? []).compactMap(\.stringValue)
            domain = dns["domain"]?.stringValue
        }
    }
}
