import CapstanCore

/// `MachineID` in mesos.proto: a machine by hostname, IP, or both.
public struct MesosMachineID: Codable, Sendable, Hashable {
    public var hostname: String?
    public var ip: String?

    public init(hostname: String? = nil, ip: String? = nil) {
        self.hostname = hostname
        self.ip = ip
    }
}

/// `maintenance.Schedule`: windows of machines and when they will be unavailable.
public struct MaintenanceSchedule: Codable, Sendable, Hashable {
    /// `maintenance.Window`.
    public struct Window: Codable, Sendable, Hashable {
        @Repeated public var machineIDs: [MesosMachineID]
        public var unavailability: Unavailability

        enum CodingKeys: String, CodingKey {
            case machineIDs = "machine_ids"
            case unavailability
        }

        public init(machineIDs: [MesosMachineID], unavailability: Unavailability) {
            self.machineIDs = machineIDs
            self.unavailability = unavailability
        }
    }

    @Repeated public var windows: [Window]

    public init(windows: [Window] = []) { self.windows = windows }
}

/// `InverseOfferStatus` in mesos.proto: a framework's answer to an inverse offer.
public struct InverseOfferStatus: Codable, Sendable, Hashable {
    /// `InverseOfferStatus.Status`.
    public enum Status: String, MesosEnum {
        case unknown = "UNKNOWN"
        case accept = "ACCEPT"
        case decline = "DECLINE"
    }

    public var status: Status
    public var frameworkID: FrameworkID
    public var timestamp: TimeInfo

    enum CodingKeys: String, CodingKey {
        case status
        case frameworkID = "framework_id"
        case timestamp
    }

    public init(status: Status, frameworkID: FrameworkID, timestamp: TimeInfo) {
        self.status = status
        self.frameworkID = frameworkID
        self.timestamp = timestamp
    }
}

/// `maintenance.ClusterStatus`: draining machines with the frameworks' answers, and the machines that are down.
public struct MaintenanceClusterStatus: Codable, Sendable, Hashable {
    /// `ClusterStatus.DrainingMachine`.
    public struct DrainingMachine: Codable, Sendable, Hashable {
        public var id: MesosMachineID
        @Repeated public var statuses: [InverseOfferStatus]

        public init(id: MesosMachineID, statuses: [InverseOfferStatus] = []) {
            self.id = id
            self.statuses = statuses
        }
    }

    @Repeated public var drainingMachines: [DrainingMachine]
    @Repeated public var downMachines: [MesosMachineID]

    enum CodingKeys: String, CodingKey {
        case drainingMachines = "draining_machines"
        case downMachines = "down_machines"
    }

    public init(drainingMachines: [DrainingMachine] = [], downMachines: [MesosMachineID] = []) {
        self.drainingMachines = drainingMachines
        self.downMachines = downMachines
    }
}

extension OperatorCall {
    /// `Call.UpdateMaintenanceSchedule`.
    public struct UpdateMaintenanceSchedule: Codable, Sendable, Hashable {
        public var schedule: MaintenanceSchedule

        public init(schedule: MaintenanceSchedule) { self.schedule = schedule }
    }

    /// `Call.StartMaintenance` / `Call.StopMaintenance`: machines to take down or bring up.
    public struct Machines: Codable, Sendable, Hashable {
        @Repeated public var machines: [MesosMachineID]

        public init(machines: [MesosMachineID] = []) { self.machines = machines }
    }

    /// `Call.StartMaintenance`.
    public typealias StartMaintenance = Machines
    /// `Call.StopMaintenance`.
    public typealias StopMaintenance = Machines
}

extension OperatorResponse {
    /// `Response.GetMaintenanceStatus`.
    public struct GetMaintenanceStatus: Codable, Sendable, Hashable {
        public var status: MaintenanceClusterStatus

        public init(status: MaintenanceClusterStatus) { self.status = status }
    }

    /// `Response.GetMaintenanceSchedule`.
    public struct GetMaintenanceSchedule: Codable, Sendable, Hashable {
        public var schedule: MaintenanceSchedule

        public init(schedule: MaintenanceSchedule) { self.schedule = schedule }
    }
}
