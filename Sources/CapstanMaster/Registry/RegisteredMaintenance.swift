public import CapstanAPI
public import CapstanCore

/// The maintenance schedule as the registry holds it (Mesos' `Registry.schedules` and `Registry.machines`): the
/// operator's windows and the mode of every scheduled machine, DRAINING or DOWN, in the order the DOWN ones went down.
public struct RegisteredMaintenance: Codable, Sendable, Equatable {
    /// A scheduled machine and its mode (Mesos' `MachineInfo`).
    public struct Machine: Codable, Sendable, Equatable {
        public var id: MesosMachineID
        /// `DRAINING` or `DOWN`.
        public var mode: String

        public init(id: MesosMachineID, mode: String) {
            self.id = id
            self.mode = mode
        }
    }

    public var schedule: MaintenanceSchedule
    public var machines: [Machine]

    public init(schedule: MaintenanceSchedule = MaintenanceSchedule(), machines: [Machine] = []) {
        self.schedule = schedule
        self.machines = machines
    }

    /// What `state` holds: its schedule, then its DOWN machines in the order they went down, then the DRAINING ones.
    public init(_ state: MaintenanceState) {
        self.init(
            schedule: MaintenanceSchedule(state),
            machines: state.downMachines.map { Machine(id: MesosMachineID($0), mode: MachineMode.down.rawValue) }
                + state.drainingMachines.map { Machine(id: MesosMachineID($0), mode: MachineMode.draining.rawValue) })
    }

    /// The state this describes, with the rules of ``MaintenanceState`` checked again (a registry edited by hand cannot
    /// take a machine DOWN that is not scheduled). `source` names the registry in errors.
    public func state(source: String) throws(CapstanError) -> MaintenanceState {
        var state = MaintenanceState()
        do {
            try state.replaceSchedule(schedule.windowsInCore, field: "schedule")
            let down = machines.filter { $0.mode == MachineMode.down.rawValue }.map { MachineID(mesos: $0.id) }
            if !down.isEmpty { try state.startMaintenance(down, field: "machines") }
        } catch {
            throw CapstanError(
                .failedPrecondition, "The maintenance schedule in \(source) breaks a maintenance rule: \(error.message)",
                cause: error)
        }
        return state
    }
}

extension QuotaInfo {
    /// The role a quota is kept under in the registry (the master always sets it).
    var registryRole: String { role ?? "" }
}
