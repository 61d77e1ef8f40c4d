import CapstanCore
import Testing

@Suite("MaintenanceState: the schedule, DOWN machines and inverse-offer answers after Mesos 1.0's rules")
struct MaintenanceStateTests {
    static let field = "update_maintenance_schedule.schedule"
    static let hostA = MachineID(hostname: "host-a", ip: "10.0.0.1")
    static let hostB = MachineID(hostname: "host-b", ip: nil)
    static let ipC = MachineID(hostname: nil, ip: "10.0.0.3")
    static let soon = UnavailableInterval(start: 1_000_000_000, duration: 3_600_000_000_000)
    static let later = UnavailableInterval(start: 9_000_000_000, duration: nil)

    static func window(_ machines: [MachineID], _ interval: UnavailableInterval = soon) -> MaintenanceWindow {
        MaintenanceWindow(machines: machines, unavailability: interval)
    }

    static func failure(_ body: () throws -> Void) -> CapstanError? {
        do { try body() } catch { return error as? CapstanError }
        return nil
    }

    @Test("Scheduled machines are DRAINING, others UP; the schedule keeps its windows in order")
    func scheduledMachinesDrain() throws {
        var state = MaintenanceState()
        let changed = try state.replaceSchedule([Self.window([Self.hostA, Self.hostB]), Self.window([Self.ipC], Self.later)], field: Self.field)
        #expect(changed == [Self.hostA, Self.hostB, Self.ipC])
        #expect(state.mode(of: Self.hostA) == .draining)
        #expect(state.mode(of: MachineID(hostname: "elsewhere", ip: nil)) == .up)
        #expect(state.interval(of: Self.ipC) == Self.later)
        #expect(state.scheduledMachines == [Self.hostA, Self.hostB, Self.ipC])
        #expect(state.drainingMachines == [Self.hostA, Self.hostB, Self.ipC])
    }

    @Test("A machine matches agents by hostname (any case), by IP, or by both when it names both")
    func machinesMatchAgents() {
        #expect(Self.hostB.matches(hostname: "HOST-B", ip: "192.168.1.1"))
        #expect(Self.ipC.matches(hostname: "anything", ip: "10.0.0.3"))
        #expect(!Self.ipC.matches(hostname: "anything", ip: "10.0.0.4"))
        #expect(Self.hostA.matches(hostname: "host-a", ip: "10.0.0.1"))
        #expect(!Self.hostA.matches(hostname: "host-a", ip: "10.0.0.9"), "both parts must match when both are given")
        #expect(!Self.hostA.matches(hostname: "host-x", ip: "10.0.0.1"))
        #expect(MachineID(hostname: "Host-B", ip: nil) == Self.hostB)
        #expect(MachineID(hostname: "", ip: "") == MachineID(hostname: nil, ip: nil))
    }

    @Test("An agent's mode is that of the DOWN machine it runs on, else of the scheduled one")
    func agentModes() throws {
        var state = MaintenanceState()
        try state.replaceSchedule([Self.window([Self.hostB]), Self.window([Self.ipC], Self.later)], field: Self.field)
        #expect(state.mode(ofAgentHostname: "host-b", ip: "10.0.0.3") == .draining)
        #expect(state.machine(ofAgentHostname: "host-b", ip: "10.0.0.3") == Self.hostB)
        try state.startMaintenance([Self.ipC], field: "start_maintenance.machines")
        #expect(state.mode(ofAgentHostname: "host-b", ip: "10.0.0.3") == .down)
        #expect(state.machine(ofAgentHostname: "host-b", ip: "10.0.0.3") == Self.ipC)
        #expect(state.mode(ofAgentHostname: "host-z", ip: "10.0.0.9") == .up)
        #expect(state.machine(ofAgentHostname: "host-z", ip: "10.0.0.9") == nil)
    }

    @Test("A machine in two windows is refused, naming the second occurrence's field path")
    func machineInTwoWindowsIsRefused() {
        var state = MaintenanceState()
        let error = Self.failure { try state.replaceSchedule([Self.window([Self.hostA]), Self.window([MachineID(hostname: "HOST-A", ip: "10.0.0.1")])], field: Self.field) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.hasPrefix("update_maintenance_schedule.schedule.windows[1].machine_ids[0]: machine 'HOST-A' (10.0.0.1) appears more than once") == true)
        #expect(error?.message.contains("windows[0].machine_ids[0]") == true)
        #expect(state.windows.isEmpty, "a refused update changes nothing")
    }

    @Test("Empty windows, machines without hostname or IP, bad IPs and negative durations are refused by field")
    func malformedSchedulesAreRefused() {
        var state = MaintenanceState()
        let cases: [([MaintenanceWindow], String)] = [
            ([Self.window([])], "update_maintenance_schedule.schedule.windows[0].machine_ids: "),
            ([Self.window([Self.hostA]), Self.window([Self.hostB, MachineID(hostname: nil, ip: nil)])], "update_maintenance_schedule.schedule.windows[1].machine_ids[1]: "),
            ([Self.window([MachineID(hostname: "h", ip: "10.0.0.256")])], "update_maintenance_schedule.schedule.windows[0].machine_ids[0].ip: '10.0.0.256' is not"),
            ([Self.window([Self.hostA], UnavailableInterval(start: 0, duration: -1))], "update_maintenance_schedule.schedule.windows[0].unavailability.duration: "),
        ]
        for (windows, prefix) in cases {
            let error = Self.failure { try state.replaceSchedule(windows, field: Self.field) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.hasPrefix(prefix) == true, "\(error?.message ?? "no error") should start with \(prefix)")
        }
        // A schedule that is the whole request body has no prefix.
        let bare = Self.failure { try state.replaceSchedule([Self.window([])], field: "") }
        #expect(bare?.message.hasPrefix("windows[0].machine_ids: ") == true)
    }

    @Test("IPv4 and IPv6 addresses are accepted, other text is not")
    func ipAddresses() {
        for ip in ["127.0.0.1", "0.0.0.2", "::1", "fe80::1", "2001:db8:0:0:0:0:2:1", "::ffff:10.0.0.1"] {
            #expect((try? MachineID(hostname: nil, ip: ip).validate(field: "f")) != nil, "\(ip)")
        }
        for ip in ["localhost", "1.2.3", "1.2.3.4.5", "01234.1.1.1", "1::2::3", "12345::1", "g::1"] {
            #expect((try? MachineID(hostname: nil, ip: ip).validate(field: "f")) == nil, "\(ip)")
        }
    }

    @Test("START takes only scheduled DRAINING machines DOWN, naming the offending machine's path")
    func startRules() throws {
        var state = MaintenanceState()
        try state.replaceSchedule([Self.window([Self.hostA, Self.hostB])], field: Self.field)
        let unscheduled = Self.failure { try state.startMaintenance([Self.hostB, Self.ipC], field: "start_maintenance.machines") }
        #expect(unscheduled?.code == .failedPrecondition)
        #expect(unscheduled?.message.hasPrefix("start_maintenance.machines[1]: machine '10.0.0.3' is not in the maintenance schedule") == true)
        #expect(state.downMachines.isEmpty, "a refused START takes nothing down")
        let twice = Self.failure { try state.startMaintenance([Self.hostB, Self.hostB], field: "start_maintenance.machines") }
        #expect(twice?.message.hasPrefix("start_maintenance.machines[1]: ") == true)
        #expect(Self.failure { try state.startMaintenance([], field: "start_maintenance.machines") }?.code == .invalidArgument)

        try state.startMaintenance([Self.hostB], field: "start_maintenance.machines")
        #expect(state.mode(of: Self.hostB) == .down)
        #expect(state.drainingMachines == [Self.hostA])
        #expect(state.downMachines == [Self.hostB])
        let again = Self.failure { try state.startMaintenance([Self.hostB], field: "start_maintenance.machines") }
        #expect(again?.code == .failedPrecondition)
    }

    @Test("STOP brings only DOWN machines UP and removes them from the schedule, dropping emptied windows")
    func stopRules() throws {
        var state = MaintenanceState()
        try state.replaceSchedule([Self.window([Self.hostA]), Self.window([Self.hostB, Self.ipC], Self.later)], field: Self.field)
        let draining = Self.failure { try state.stopMaintenance([Self.hostA], field: "stop_maintenance.machines") }
        #expect(draining?.code == .failedPrecondition)
        #expect(draining?.message.hasPrefix("stop_maintenance.machines[0]: machine 'host-a' (10.0.0.1) is DRAINING, not DOWN") == true)

        try state.startMaintenance([Self.hostA, Self.ipC], field: "start_maintenance.machines")
        try state.stopMaintenance([Self.hostA, Self.ipC], field: "stop_maintenance.machines")
        #expect(state.mode(of: Self.hostA) == .up)
        #expect(state.downMachines.isEmpty)
        #expect(state.windows == [Self.window([Self.hostB], Self.later)])
    }

    @Test("An update may not drop a DOWN machine, but may move it to another window")
    func downMachinesStayScheduled() throws {
        var state = MaintenanceState()
        try state.replaceSchedule([Self.window([Self.hostA, Self.hostB])], field: Self.field)
        try state.startMaintenance([Self.hostA], field: "start_maintenance.machines")
        let dropped = Self.failure { try state.replaceSchedule([Self.window([Self.hostB])], field: Self.field) }
        #expect(dropped?.code == .failedPrecondition)
        #expect(dropped?.message.hasPrefix("update_maintenance_schedule.schedule.windows: machine 'host-a' (10.0.0.1) is DOWN and cannot be removed") == true)
        let changed = try state.replaceSchedule([Self.window([Self.hostB]), Self.window([Self.hostA], Self.later)], field: Self.field)
        #expect(changed == [Self.hostA])
        #expect(state.mode(of: Self.hostA) == .down)
    }

    @Test("Answers are kept per draining machine and forgotten when its unavailability changes or it goes DOWN")
    func inverseOfferAnswers() throws {
        var state = MaintenanceState()
        try state.replaceSchedule([Self.window([Self.hostA, Self.hostB])], field: Self.field)
        state.record(.unknown, from: "f1", on: Self.hostA, at: 10)
        state.record(.accept, from: "f1", on: Self.hostA, at: 11)
        state.record(.unknown, from: "f1", on: Self.hostA, at: 12)
        state.record(.decline, from: "f2", on: Self.hostB, at: 13)
        state.record(.accept, from: "f3", on: Self.ipC, at: 14)
        #expect(state.responses[Self.hostA]?["f1"] == InverseOfferResponse(status: .accept, timestamp: 11), "UNKNOWN never overwrites an answer")
        #expect(state.responses[Self.ipC] == nil, "machines that are not draining keep no answers")

        // Same windows, same intervals: nothing changed, answers stay.
        #expect(try state.replaceSchedule([Self.window([Self.hostB, Self.hostA])], field: Self.field).isEmpty)
        #expect(state.responses[Self.hostA]?["f1"]?.status == .accept)
        // hostB moves to another interval: its answers go.
        try state.replaceSchedule([Self.window([Self.hostA]), Self.window([Self.hostB], Self.later)], field: Self.field)
        #expect(state.responses[Self.hostB] == nil)
        try state.startMaintenance([Self.hostA], field: "start_maintenance.machines")
        #expect(state.responses[Self.hostA] == nil)
    }
}

@Suite("InverseOfferBook: one outstanding inverse offer per framework and agent, and refusal filters")
struct InverseOfferBookTests {
    static let machine = MachineID(hostname: "h", ip: nil)

    @Test("A framework gets one inverse offer per agent until it answers, then none while its filter lasts")
    func oneAtATimeThenFiltered() {
        var book = InverseOfferBook()
        #expect(book.shouldOffer(to: "f1", on: "a1", now: 0))
        book.offered(.init(id: "o1", framework: "f1", agent: "a1", machine: Self.machine))
        #expect(!book.shouldOffer(to: "f1", on: "a1", now: 0))
        #expect(book.shouldOffer(to: "f1", on: "a2", now: 0))
        #expect(book.shouldOffer(to: "f2", on: "a1", now: 0))

        #expect(book.answer("o1", from: "f2", refuseSeconds: 5, now: 1) == nil, "another framework cannot answer it")
        #expect(book.answer("o1", from: "f1", refuseSeconds: 5, now: 1)?.agent == "a1")
        #expect(book.answer("o1", from: "f1", refuseSeconds: 5, now: 1) == nil, "answered once")
        #expect(!book.shouldOffer(to: "f1", on: "a1", now: 5.9))
        #expect(book.shouldOffer(to: "f1", on: "a1", now: 6.1))
        book.clearFilters(on: "a1")
        #expect(book.shouldOffer(to: "f1", on: "a1", now: 2))
    }

    @Test("Removing by agent answers the offers to rescind")
    func removeByAgent() {
        var book = InverseOfferBook()
        book.offered(.init(id: "o1", framework: "f1", agent: "a1", machine: Self.machine))
        book.offered(.init(id: "o2", framework: "f2", agent: "a1", machine: Self.machine))
        book.offered(.init(id: "o3", framework: "f1", agent: "a2", machine: Self.machine))
        #expect(book.remove { $0.agent == "a1" }.map(\.id) == ["o1", "o2"])
        #expect(book.outstanding.keys.sorted() == ["o3"])
    }
}
