/// `Volume`: a path mapped into a container.
public struct Volume: Codable, Sendable, Hashable {
    /// `Volume.Mode`.
    public enum Mode: String, MesosEnum {
        case rw = "RW"
        case ro = "RO"
    }

    public var mode: Mode
    public var containerPath: String
    public var hostPath: String?
    public var image: Image?
    public var source: Source?

    enum CodingKeys: String, CodingKey {
        case mode
        case containerPath = "container_path"
        case hostPath = "host_path"
        case image, source
    }

    public init(mode: Mode, containerPath: String, hostPath: String? = nil, image: Image? = nil, source: Source? = nil)
    {
        self.mode = mode
        self.containerPath = containerPath
        self.hostPath = hostPath
        self.image = image
        self.source = source
    }

    /// `Volume.Source`.
    public struct Source: Codable, Sendable, Hashable {
        /// `Source.Type`.
        public enum Kind: String, MesosEnum {
            case unknown = "UNKNOWN"
            case dockerVolume = "DOCKER_VOLUME"
            case hostPath = "HOST_PATH"
            case sandboxPath = "SANDBOX_PATH"
            case secret = "SECRET"
            case csiVolume = "CSI_VOLUME"
        }

        /// `Source.DockerVolume`.
        public struct DockerVolume: Codable, Sendable, Hashable {
            public var driver: String?
            public var name: String
            public var driverOptions: Parameters?

            enum CodingKeys: String, CodingKey {
                case driver, name
                case driverOptions = "driver_options"
            }

            public init(driver: String? = nil, name: String, driverOptions: Parameters? = nil) {
                self.driver = driver
                self.name = name
                self.driverOptions = driverOptions
            }
        }

        /// `Source.HostPath`.
        public struct HostPath: Codable, Sendable, Hashable {
            public var path: String
            public var mountPropagation: MountPropagation?

            enum CodingKeys: String, CodingKey {
                case path
                case mountPropagation = "mount_propagation"
            }

            public init(path: String, mountPropagation: MountPropagation? = nil) {
                self.path = path
                self.mountPropagation = mountPropagation
            }
        }

        /// `Source.SandboxPath`.
        public struct SandboxPath: Codable, Sendable, Hashable {
            /// `SandboxPath.Type`.
            public enum Kind: String, MesosEnum {
                case unknown = "UNKNOWN"
                case `self` = "SELF"
                case parent = "PARENT"
            }

            public var type: Kind?
            public var path: String

            public init(type: Kind? = nil, path: String) {
                self.type = type
                self.path = path
            }
        }

        public var type: Kind?
        public var dockerVolume: DockerVolume?
        public var hostPath: HostPath?
        public var sandboxPath: SandboxPath?
        public var secret: Secret?

        enum CodingKeys: String, CodingKey {
            case type
            case dockerVolume = "docker_volume"
            case hostPath = "host_path"
            case sandboxPath = "sandbox_path"
            case secret
        }

        public init(
            type: Kind? = nil, dockerVolume: DockerVolume? = nil, hostPath: HostPath? = nil,
            sandboxPath: SandboxPath? = nil, secret: Secret? = nil
        ) {
            self.type = type
            self.dockerVolume = dockerVolume
            self.hostPath = hostPath
            self.sandboxPath = sandboxPath
            self.secret = secret
        }
    }
}

/// `MountPropagation`.
public struct MountPropagation: Codable, Sendable, Hashable {
    /// `MountPropagation.Mode`.
    public enum Mode: String, MesosEnum {
        case unknown = "UNKNOWN"
        case hostToContainer = "HOST_TO_CONTAINER"
        case bidirectional = "BIDIRECTIONAL"
    }

    public var mode: Mode?

    public init(mode: Mode? = nil) { self.mode = mode }
}
