/// `ContainerInfo`: how to containerize a task or executor (Mesos or Docker).
public struct ContainerInfo: Codable, Sendable, Hashable {
    /// `ContainerInfo.Type`.
    public enum Kind: String, MesosEnum {
        case docker = "DOCKER"
        case mesos = "MESOS"
    }

    public var type: Kind
    @Repeated public var volumes: [Volume]
    public var hostname: String?
    public var docker: DockerInfo?
    public var mesos: MesosInfo?
    @Repeated public var networkInfos: [NetworkInfo]

    enum CodingKeys: String, CodingKey {
        case type, volumes, hostname, docker, mesos
        case networkInfos = "network_infos"
    }

    public init(
        type: Kind, volumes: [Volume] = [], hostname: String? = nil, docker: DockerInfo? = nil,
        mesos: MesosInfo? = nil, networkInfos: [NetworkInfo] = []
    ) {
        self.type = type
        self.volumes = volumes
        self.hostname = hostname
        self.docker = docker
        self.mesos = mesos
        self.networkInfos = networkInfos
    }

    /// `ContainerInfo.MesosInfo`.
    public struct MesosInfo: Codable, Sendable, Hashable {
        public var image: Image?

        public init(image: Image? = nil) { self.image = image }
    }

    /// `ContainerInfo.DockerInfo`.
    public struct DockerInfo: Codable, Sendable, Hashable {
        /// `DockerInfo.Network`.
        public enum Network: String, MesosEnum {
            case host = "HOST"
            case bridge = "BRIDGE"
            case none = "NONE"
            case user = "USER"
        }

        /// `DockerInfo.PortMapping`.
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

        public var image: String
        public var network: Network?
        @Repeated public var portMappings: [PortMapping]
        public var privileged: Bool?
        @Repeated public var parameters: [Parameter]
        public var forcePullImage: Bool?
        public var volumeDriver: String?

        enum CodingKeys: String, CodingKey {
            case image, network
            case portMappings = "port_mappings"
            case privileged, parameters
            case forcePullImage = "force_pull_image"
            case volumeDriver = "volume_driver"
        }

        public init(
            image: String, network: Network? = nil, portMappings: [PortMapping] = [], privileged: Bool? = nil,
            parameters: [Parameter] = [], forcePullImage: Bool? = nil, volumeDriver: String? = nil
        ) {
            self.image = image
            self.network = network
            self.portMappings = portMappings
            self.privileged = privileged
            self.parameters = parameters
            self.forcePullImage = forcePullImage
            self.volumeDriver = volumeDriver
        }
    }
}

/// `Image`: a container image for the Mesos containerizer.
public struct Image: Codable, Sendable, Hashable {
    /// `Image.Type`.
    public enum Kind: String, MesosEnum {
        case appc = "APPC"
        case docker = "DOCKER"
    }

    /// `Image.Appc`.
    public struct Appc: Codable, Sendable, Hashable {
        public var name: String
        public var id: String?
        public var labels: Labels?

        public init(name: String, id: String? = nil, labels: Labels? = nil) {
            self.name = name
            self.id = id
            self.labels = labels
        }
    }

    /// `Image.Docker`.
    public struct Docker: Codable, Sendable, Hashable {
        public var name: String
        public var credential: Credential?
        public var config: Secret?

        public init(name: String, credential: Credential? = nil, config: Secret? = nil) {
            self.name = name
            self.credential = credential
            self.config = config
        }
    }

    public var type: Kind
    public var appc: Appc?
    public var docker: Docker?
    public var cached: Bool?

    public init(type: Kind, appc: Appc? = nil, docker: Docker? = nil, cached: Bool? = nil) {
        self.type = type
        self.appc = appc
        self.docker = docker
        self.cached = cached
    }
}

/// `Credential`: a principal and optional secret.
public struct Credential: Codable, Sendable, Hashable {
    public var principal: String
    public var secret: String?

    public init(principal: String, secret: String? = nil) {
        self.principal = principal
        self.secret = secret
    }
}
