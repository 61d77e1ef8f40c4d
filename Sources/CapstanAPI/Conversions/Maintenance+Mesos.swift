import CapstanCore

extension MachineID {
    public init(mesos machine: MesosMachineID) { self.init(hostname: machine.hostname, ip: machine.ip) }
}

extension MesosMachineID {
    public init(_ machine: MachineID) { self.init(hostname: machine.hostname, ip: machine.ip) }
}

extension UnavailableInterval {
    public init(mesos unavailability: Unavailability) {
        self.init(start: unavailability.start.nanoseconds, duration: unavailability.duration?.nanoseconds)
    }
}

extension Unavailability {
    public init(_ interval: UnavailableInterval) {
        self.init(start: TimeInfo(nanoseconds: interval.start), duration: interval.duration.map(DurationInfo.init(nanoseconds:)))
    }
}

extension MaintenanceSchedule {
    /// The schedule's windows in Core form (validated by ``MaintenanceState/replaceSchedule(_:field:)``).
    public var windowsInCore: [MaintenanceWindow] {
        windows.map { window in
            MaintenanceWindow(
                machines: window.machineIDs.map(MachineID.init(mesos:)), unavailability: UnavailableInterval(mesos: window.unavailability))
        }
    }

    public init(_ state: MaintenanceState) {
        self.init(
            windows: state.windows.map { window in
                Window(machineIDs: window.machines.map(MesosMachineID.init), unavailability: Unavailability(window.unavailability))
            })
    }
}

extension MaintenanceClusterStatus {
    public init(_ state: MaintenanceState) {
        self.init(
            drainingMachines: state.drainingMachines.map { machine in
                DrainingMachine(
                    id: MesosMachineID(machine),
                    statuses: (state.responses[machine] ?? [:]).sorted { $0.key < $1.key }.map { framework, response in
                        InverseOfferStatus(
                            status: InverseOfferStatus.Status(rawValue: response.status.rawValue) ?? .unknown,
                            frameworkID: framework, timestamp: TimeInfo(nanoseconds: Int64(response.timestamp * 1e9)))
                    })
            },
            downMachines: state.downMachines.map(MesosMachineID.init))
    }
}
