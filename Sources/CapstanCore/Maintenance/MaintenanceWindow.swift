/// When a machine will be unavailable: from `start` for `duration` (nil: indefinitely), in nanoseconds since the
/// epoch and nanoseconds (Mesos' `Unavailability`).
public struct UnavailableInterval: Sendable, Hashable {
    public var start: Int64
    public var duration: Int64?

    public init(start: Int64, duration: Int64? = nil) {
        self.start = start
        self.duration = duration
    }
}

/// One window of a maintenance schedule: machines that will be unavailable over one interval.
public struct MaintenanceWindow: Sendable, Hashable {
    public var machines: [MachineID]
    public var unavailability: UnavailableInterval

    public init(machines: [MachineID], unavailability: UnavailableInterval) {
        self.machines = machines
        self.unavailability = unavailability
    }
}

/// A machine's maintenance mode: UP (not scheduled), DRAINING (scheduled) or DOWN (in maintenance).
public enum MachineMode: String, Sendable, Hashable {
    case up = "UP"
    case draining = "DRAINING"
    case down = "DOWN"
}

/// A framework's answer to an inverse offer for a draining machine, and when it answered (seconds since the epoch).
public struct InverseOfferResponse: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable {
        /// Offered, not answered yet.
        case unknown = "UNKNOWN"
        case accept = "ACCEPT"
        case decline = "DECLINE"
    }

    public var status: Status
    public var timestamp: Double

    public init(status: Status, timestamp: Double) {
        self.status = status
        self.timestamp = timestamp
    }
}
