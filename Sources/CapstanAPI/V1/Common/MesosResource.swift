/// `Resource` in mesos.proto: a named scalar, ranges or set, e.g. `{"name":"cpus","type":"SCALAR","scalar":{"value":1}}`.
public struct MesosResource: Codable, Sendable, Hashable {
    public var providerID: ResourceProviderID?
    public var name: String
    public var type: ValueType
    public var scalar: ValueScalar?
    public var ranges: ValueRanges?
    public var set: ValueSet?
    /// Deprecated in favour of `reservations`; Mesos 1.0 clients still send and read it.
    public var role: String?
    public var allocationInfo: AllocationInfo?
    public var reservation: ReservationInfo?
    @Repeated public var reservations: [ReservationInfo]
    public var disk: DiskInfo?
    public var revocable: RevocableInfo?
    public var shared: SharedInfo?

    enum CodingKeys: String, CodingKey {
        case providerID = "provider_id"
        case name, type, scalar, ranges, set, role
        case allocationInfo = "allocation_info"
        case reservation, reservations, disk, revocable, shared
    }

    public init(
        name: String, type: ValueType, scalar: ValueScalar? = nil, ranges: ValueRanges? = nil, set: ValueSet? = nil,
        role: String? = nil, allocationInfo: AllocationInfo? = nil, reservation: ReservationInfo? = nil,
        reservations: [ReservationInfo] = [], disk: DiskInfo? = nil, revocable: RevocableInfo? = nil,
        shared: SharedInfo? = nil, providerID: ResourceProviderID? = nil
    ) {
        self.providerID = providerID
        self.name = name
        self.type = type
        self.scalar = scalar
        self.ranges = ranges
        self.set = set
        self.role = role
        self.allocationInfo = allocationInfo
        self.reservation = reservation
        self.reservations = reservations
        self.disk = disk
        self.revocable = revocable
        self.shared = shared
    }

    /// A scalar resource such as `cpus` or `mem`.
    public static func scalar(_ name: String, _ value: Double, role: String? = nil) -> MesosResource {
        MesosResource(name: name, type: .scalar, scalar: ValueScalar(value: value), role: role)
    }

    /// A ranges resource such as `ports`.
    public static func ranges(_ name: String, _ ranges: [ClosedRange<UInt64>], role: String? = nil) -> MesosResource {
        MesosResource(
            name: name, type: .ranges,
            ranges: ValueRanges(range: ranges.map { MesosValueRange(begin: $0.lowerBound, end: $0.upperBound) }),
            role: role)
    }

    /// `Resource.AllocationInfo`: the role the resource is allocated to.
    public struct AllocationInfo: Codable, Sendable, Hashable {
        public var role: String?

        public init(role: String? = nil) { self.role = role }
    }

    /// `Resource.ReservationInfo`.
    public struct ReservationInfo: Codable, Sendable, Hashable {
        /// `ReservationInfo.Type`.
        public enum Kind: String, MesosEnum {
            case unknown = "UNKNOWN"
            case `static` = "STATIC"
            case dynamic = "DYNAMIC"
        }

        public var type: Kind?
        public var role: String?
        public var principal: String?
        public var labels: Labels?

        public init(type: Kind? = nil, role: String? = nil, principal: String? = nil, labels: Labels? = nil) {
            self.type = type
            self.role = role
            self.principal = principal
            self.labels = labels
        }
    }

    /// `Resource.DiskInfo`: persistent volume and disk source.
    public struct DiskInfo: Codable, Sendable, Hashable {
        /// `DiskInfo.Persistence`.
        public struct Persistence: Codable, Sendable, Hashable {
            public var id: String
            public var principal: String?

            public init(id: String, principal: String? = nil) {
                self.id = id
                self.principal = principal
            }
        }

        /// `DiskInfo.Source`.
        public struct Source: Codable, Sendable, Hashable {
            /// `Source.Type`.
            public enum Kind: String, MesosEnum {
                case unknown = "UNKNOWN"
                case path = "PATH"
                case mount = "MOUNT"
                case block = "BLOCK"
                case raw = "RAW"
            }

            /// `Source.Path` / `Source.Mount`.
            public struct Root: Codable, Sendable, Hashable {
                public var root: String?

                public init(root: String? = nil) { self.root = root }
            }

            public var type: Kind
            public var path: Root?
            public var mount: Root?
            public var vendor: String?
            public var id: String?
            public var metadata: Labels?
            public var profile: String?

            public init(
                type: Kind, path: Root? = nil, mount: Root? = nil, vendor: String? = nil, id: String? = nil,
                metadata: Labels? = nil, profile: String? = nil
            ) {
                self.type = type
                self.path = path
                self.mount = mount
                self.vendor = vendor
                self.id = id
                self.metadata = metadata
                self.profile = profile
            }
        }

        public var persistence: Persistence?
        public var volume: Volume?
        public var source: Source?

        public init(persistence: Persistence? = nil, volume: Volume? = nil, source: Source? = nil) {
            self.persistence = persistence
            self.volume = volume
            self.source = source
        }
    }

    /// `Resource.RevocableInfo`: present when the resource is revocable.
    public struct RevocableInfo: Codable, Sendable, Hashable {
        public init() {}
    }

    /// `Resource.SharedInfo`: present when the resource is shared.
    public struct SharedInfo: Codable, Sendable, Hashable {
        public init() {}
    }
}
