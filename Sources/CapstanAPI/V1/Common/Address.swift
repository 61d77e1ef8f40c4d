/// `Address`: a network address.
public struct Address: Codable, Sendable, Hashable {
    public var hostname: String?
    public var ip: String?
    public var port: Int32

    public init(hostname: String? = nil, ip: String? = nil, port: Int32) {
        self.hostname = hostname
        self.ip = ip
        self.port = port
    }
}

/// `URL` in mesos.proto (renamed so it does not clash with Foundation's `URL`).
public struct MesosURL: Codable, Sendable, Hashable {
    public var scheme: String
    public var address: Address
    public var path: String?
    @Repeated public var query: [Parameter]
    public var fragment: String?

    public init(scheme: String, address: Address, path: String? = nil, query: [Parameter] = [], fragment: String? = nil)
    {
        self.scheme = scheme
        self.address = address
        self.path = path
        self.query = query
        self.fragment = fragment
    }
}

/// `DomainInfo`: the fault domain (region and zone) of a master or agent.
public struct DomainInfo: Codable, Sendable, Hashable {
    /// `DomainInfo.FaultDomain`.
    public struct FaultDomain: Codable, Sendable, Hashable {
        /// `RegionInfo` / `ZoneInfo`: a named region or zone.
        public struct Named: Codable, Sendable, Hashable {
            public var name: String

            public init(name: String) { self.name = name }
        }

        public var region: Named
        public var zone: Named

        public init(region: Named, zone: Named) {
            self.region = region
            self.zone = zone
        }
    }

    public var faultDomain: FaultDomain?

    enum CodingKeys: String, CodingKey { case faultDomain = "fault_domain" }

    public init(faultDomain: FaultDomain? = nil) { self.faultDomain = faultDomain }
}
