/// The cluster's maintenance schedule and the machines in maintenance, with the rules Mesos applies to changing
/// them: a machine in at most one window, START only for scheduled machines still DRAINING, STOP only for DOWN
/// machines, and no schedule update that drops a DOWN machine. Errors name the field path given by the caller.
/// Pure: the master acts on what these methods answer.
public struct MaintenanceState: Sendable {
    public private(set) var windows: [MaintenanceWindow] = []
    /// Machines in maintenance, in the order they went down.
    public private(set) var downMachines: [MachineID] = []
    /// Frameworks' answers to inverse offers, per draining machine.
    public private(set) var responses: [MachineID: [FrameworkID: InverseOfferResponse]] = [:]

    public init() {}

    /// Every machine in the schedule, in schedule order.
    public var scheduledMachines: [MachineID] { windows.flatMap(\.machines) }

    /// Scheduled machines that are not DOWN.
    public var drainingMachines: [MachineID] { scheduledMachines.filter { !downMachines.contains($0) } }

    public func mode(of machine: MachineID) -> MachineMode {
        if downMachines.contains(machine) { return .down }
        return interval(of: machine) == nil ? .up : .draining
    }

    /// The unavailability of a scheduled machine.
    public func interval(of machine: MachineID) -> UnavailableInterval? {
        windows.first { $0.machines.contains(machine) }?.unavailability
    }

    /// The machine that decides an agent's mode: the first DOWN machine it runs on, else the first scheduled one.
    public func machine(ofAgentHostname hostname: String, ip: String) -> MachineID? {
        downMachines.first { $0.matches(hostname: hostname, ip: ip) }
            ?? scheduledMachines.first { $0.matches(hostname: hostname, ip: ip) }
    }

    /// The mode of the machine an agent runs on (UP when no machine in the schedule matches it).
    public func mode(ofAgentHostname hostname: String, ip: String) -> MachineMode {
        machine(ofAgentHostname: hostname, ip: ip).map(mode(of:)) ?? .up
    }

    // MARK: Changes

    /// Replaces the schedule (UPDATE_MAINTENANCE_SCHEDULE) after validating it; `field` is the schedule's path in
    /// the request (e.g. `update_maintenance_schedule.schedule`; empty when the schedule is the whole body). Answers the machines whose unavailability changed
    /// (added, moved to another interval, or removed): their outstanding offers and inverse offers are stale, and
    /// their recorded inverse-offer answers are forgotten.
    @discardableResult
    public mutating func replaceSchedule(_ newWindows: [MaintenanceWindow], field: String) throws(CapstanError) -> Set<MachineID> {
        let prefix = field.isEmpty ? "" : field + "."
        var seen: [MachineID: String] = [:]
        for (w, window) in newWindows.enumerated() {
            let windowField = "\(prefix)windows[\(w)]"
            guard !window.machines.isEmpty else {
                throw CapstanError(.invalidArgument, "\(windowField).machine_ids: a maintenance window needs at least one machine")
            }
            if let duration = window.unavailability.duration, duration < 0 {
                throw CapstanError(
                    .invalidArgument, "\(windowField).unavailability.duration: \(duration) nanoseconds is negative")
            }
            for (m, machine) in window.machines.enumerated() {
                let machineField = "\(windowField).machine_ids[\(m)]"
                try machine.validate(field: machineField)
                if let first = seen[machine] {
                    throw CapstanError(
                        .invalidArgument,
                        "\(machineField): machine \(machine) appears more than once in the schedule (first at \(first)); a machine belongs to at most one window")
                }
                seen[machine] = machineField
            }
        }
        for machine in downMachines where seen[machine] == nil {
            throw CapstanError(
                .failedPrecondition,
                "\(prefix)windows: machine \(machine) is DOWN and cannot be removed from the schedule; bring it up with STOP_MAINTENANCE first")
        }
        let old = self
        windows = newWindows
        var changed: Set<MachineID> = []
        for machine in Set(old.scheduledMachines).union(scheduledMachines) where old.interval(of: machine) != interval(of: machine) {
            changed.insert(machine)
            responses[machine] = nil
        }
        return changed
    }

    /// Takes scheduled machines DOWN (START_MAINTENANCE); `field` is the list's path (`start_maintenance.machines`).
    public mutating func startMaintenance(_ machines: [MachineID], field: String) throws(CapstanError) {
        try Self.validateList(machines, field: field)
        for (index, machine) in machines.enumerated() {
            guard interval(of: machine) != nil else {
                throw CapstanError(
                    .failedPrecondition,
                    "\(field)[\(index)]: machine \(machine) is not in the maintenance schedule; add it with UPDATE_MAINTENANCE_SCHEDULE first")
            }
            guard !downMachines.contains(machine) else {
                throw CapstanError(.failedPrecondition, "\(field)[\(index)]: machine \(machine) is DOWN already; it is not DRAINING")
            }
        }
        for machine in machines {
            downMachines.append(machine)
            responses[machine] = nil
        }
    }

    /// Brings DOWN machines back UP (STOP_MAINTENANCE) and removes them from the schedule (a window left empty goes).
    public mutating func stopMaintenance(_ machines: [MachineID], field: String) throws(CapstanError) {
        try Self.validateList(machines, field: field)
        for (index, machine) in machines.enumerated() where !downMachines.contains(machine) {
            throw CapstanError(
                .failedPrecondition,
                "\(field)[\(index)]: machine \(machine) is \(mode(of: machine).rawValue), not DOWN; only machines in maintenance can be brought up")
        }
        let up = Set(machines)
        downMachines.removeAll { up.contains($0) }
        windows = windows.compactMap { window in
            var window = window
            window.machines.removeAll { up.contains($0) }
            return window.machines.isEmpty ? nil : window
        }
        for machine in up { responses[machine] = nil }
    }

    /// Records a framework's answer to an inverse offer for a draining machine (ignored for other machines).
    /// `.unknown` only marks a first inverse offer: it never overwrites an answer.
    public mutating func record(
        _ status: InverseOfferResponse.Status, from framework: FrameworkID, on machine: MachineID, at timestamp: Double
    ) {
        guard mode(of: machine) == .draining else { return }
        if status == .unknown, responses[machine]?[framework] != nil { return }
        responses[machine, default: [:]][framework] = InverseOfferResponse(status: status, timestamp: timestamp)
    }

    /// A non-empty list of valid machines, none twice.
    static func validateList(_ machines: [MachineID], field: String) throws(CapstanError) {
        guard !machines.isEmpty else { throw CapstanError(.invalidArgument, "\(field): list at least one machine") }
        var seen: Set<MachineID> = []
        for (index, machine) in machines.enumerated() {
            try machine.validate(field: "\(field)[\(index)]")
            guard seen.insert(machine).inserted else {
                throw CapstanError(.invalidArgument, "\(field)[\(index)]: machine \(machine) appears more than once")
            }
        }
    }
}
