extension Offer {
    /// `Offer.Operation`: what a framework does with accepted offers.
    public struct Operation: Codable, Sendable, Hashable {
        /// `Operation.Create`.
        public typealias Create = Volumes
        /// `Operation.Destroy`.
        public typealias Destroy = Volumes

        /// `Operation.Type`.
        public enum Kind: String, MesosEnum {
            case unknown = "UNKNOWN"
            case launch = "LAUNCH"
            case launchGroup = "LAUNCH_GROUP"
            case reserve = "RESERVE"
            case unreserve = "UNRESERVE"
            case create = "CREATE"
            case destroy = "DESTROY"
            case growVolume = "GROW_VOLUME"
            case shrinkVolume = "SHRINK_VOLUME"
            case createDisk = "CREATE_DISK"
            case destroyDisk = "DESTROY_DISK"
        }

        /// `Operation.Launch`.
        public struct Launch: Codable, Sendable, Hashable {
            @Repeated public var taskInfos: [TaskInfo]

            enum CodingKeys: String, CodingKey { case taskInfos = "task_infos" }

            public init(taskInfos: [TaskInfo] = []) { self.taskInfos = taskInfos }
        }

        /// `Operation.LaunchGroup`.
        public struct LaunchGroup: Codable, Sendable, Hashable {
            public var executor: ExecutorInfo
            public var taskGroup: TaskGroupInfo

            enum CodingKeys: String, CodingKey {
                case executor
                case taskGroup = "task_group"
            }

            public init(executor: ExecutorInfo, taskGroup: TaskGroupInfo) {
                self.executor = executor
                self.taskGroup = taskGroup
            }
        }

        /// `Operation.Reserve`.
        public struct Reserve: Codable, Sendable, Hashable {
            @Repeated public var source: [MesosResource]
            @Repeated public var resources: [MesosResource]

            public init(source: [MesosResource] = [], resources: [MesosResource] = []) {
                self.source = source
                self.resources = resources
            }
        }

        /// `Operation.Unreserve`.
        public struct Unreserve: Codable, Sendable, Hashable {
            @Repeated public var resources: [MesosResource]

            public init(resources: [MesosResource] = []) { self.resources = resources }
        }

        /// `Operation.Create` / `Operation.Destroy`: persistent volumes.
        public struct Volumes: Codable, Sendable, Hashable {
            @Repeated public var volumes: [MesosResource]

            public init(volumes: [MesosResource] = []) { self.volumes = volumes }
        }

        /// `Operation.GrowVolume`.
        public struct GrowVolume: Codable, Sendable, Hashable {
            public var volume: MesosResource
            public var addition: MesosResource

            public init(volume: MesosResource, addition: MesosResource) {
                self.volume = volume
                self.addition = addition
            }
        }

        /// `Operation.ShrinkVolume`.
        public struct ShrinkVolume: Codable, Sendable, Hashable {
            public var volume: MesosResource
            public var subtract: ValueScalar

            public init(volume: MesosResource, subtract: ValueScalar) {
                self.volume = volume
                self.subtract = subtract
            }
        }

        public var type: Kind?
        public var id: OperationID?
        public var launch: Launch?
        public var launchGroup: LaunchGroup?
        public var reserve: Reserve?
        public var unreserve: Unreserve?
        public var create: Volumes?
        public var destroy: Volumes?
        public var growVolume: GrowVolume?
        public var shrinkVolume: ShrinkVolume?

        enum CodingKeys: String, CodingKey {
            case type, id, launch
            case launchGroup = "launch_group"
            case reserve, unreserve, create, destroy
            case growVolume = "grow_volume"
            case shrinkVolume = "shrink_volume"
        }

        public init(
            type: Kind?, id: OperationID? = nil, launch: Launch? = nil, launchGroup: LaunchGroup? = nil,
            reserve: Reserve? = nil, unreserve: Unreserve? = nil, create: Volumes? = nil, destroy: Volumes? = nil,
            growVolume: GrowVolume? = nil, shrinkVolume: ShrinkVolume? = nil
        ) {
            self.type = type
            self.id = id
            self.launch = launch
            self.launchGroup = launchGroup
            self.reserve = reserve
            self.unreserve = unreserve
            self.create = create
            self.destroy = destroy
            self.growVolume = growVolume
            self.shrinkVolume = shrinkVolume
        }

        /// A LAUNCH operation.
        public static func launch(_ tasks: [TaskInfo]) -> Operation {
            Operation(type: .launch, launch: Launch(taskInfos: tasks))
        }

        /// A LAUNCH_GROUP operation.
        public static func launchGroup(executor: ExecutorInfo, tasks: [TaskInfo]) -> Operation {
            Operation(
                type: .launchGroup, launchGroup: LaunchGroup(executor: executor, taskGroup: TaskGroupInfo(tasks: tasks))
            )
        }
    }
}
