/// The free resources of every agent while a plan's new instances are placed one by one, so that two
/// items never count the same free space. Placement is greedy and deterministic: agents in ID order,
/// first fit starting after the agent that took the previous instance (which spreads instances).
/// It answers "would this fit?", not "where will it run?": the allocator's offers decide that.
public struct PlacementLedger: Sendable {
    struct Slot: Sendable {
        var agentID: AgentID
        var hostname: String
        var attributes: [String: String]
        var cpus: Double
        var mem: Double
        var disk: Double
        var gpus: Double
        var ports: [ValueRange]
    }

    private var slots: [Slot]
    private var indexByAgent: [AgentID: Int]
    private var cursor = 0

    public init(agents: [AgentCapacity]) {
        slots = agents.sorted { $0.agentID < $1.agentID }.map { agent in
            Slot(
                agentID: agent.agentID, hostname: agent.hostname, attributes: agent.attributes,
                cpus: agent.free.cpus, mem: agent.free.mem, disk: agent.free.disk, gpus: agent.free.gpus,
                ports: agent.free.ranges("ports").sorted { $0.begin < $1.begin })
        }
        indexByAgent = Dictionary(slots.enumerated().map { ($1.agentID, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Gives `resources` (a task that will be killed) back to its agent; unknown agents are ignored.
    public mutating func release(_ resources: Resources, on agent: AgentID) {
        guard let i = indexByAgent[agent] else { return }
        slots[i].cpus += resources.cpus
        slots[i].mem += resources.mem
        slots[i].disk += resources.disk
        slots[i].gpus += resources.gpus
        let ports = resources.ranges("ports")
        if !ports.isEmpty { slots[i].ports = RangeAlgebra.union(slots[i].ports, ports) }
    }

    /// The hostname and attributes of an agent, for ``ConstraintMatcher/record(hostname:attributes:in:)``.
    public func host(of agent: AgentID) -> (hostname: String, attributes: [String: String])? {
        guard let i = indexByAgent[agent] else { return nil }
        return (slots[i].hostname, slots[i].attributes)
    }

    /// Places `count` instances needing `demand` on agents that satisfy `matcher`, taking their resources,
    /// and records each in `used`. Stops at the first instance that finds no agent.
    public mutating func place(
        _ demand: InstanceDemand, count: Int, matcher: ConstraintMatcher, used: inout ConstraintUsage
    ) -> PlacementFit {
        for placed in 0..<max(0, count) {
            guard placeOne(demand, matcher: matcher, used: &used) != nil else {
                return .willNotFit(placed: placed, needed: count, reason: reason(demand, matcher, used))
            }
        }
        return .fits
    }

    /// Where one instance went: the agent and the agent ports it takes.
    public struct Placement: Sendable, Hashable {
        public var agentID: AgentID
        public var hostname: String
        public var attributes: [String: String]
        /// Its fixed ports, then the lowest free ones for its `anyPorts`.
        public var ports: [UInt64]
    }

    /// Places one instance needing `demand` on an agent that satisfies `matcher`, taking its resources and
    /// recording it in `used`; nil when no agent takes it.
    public mutating func placeOne(
        _ demand: InstanceDemand, matcher: ConstraintMatcher, used: inout ConstraintUsage, on agent: AgentID? = nil
    ) -> Placement? {
        let found = agent.map { indexByAgent[$0].flatMap { fits(demand, matcher, used, at: $0) ? $0 : nil } } ?? firstFit(demand, matcher, used)
        guard let i = found else { return nil }
        let ports = take(demand, from: i)
        matcher.record(hostname: slots[i].hostname, attributes: slots[i].attributes, in: &used)
        cursor = (i + 1) % slots.count
        return Placement(agentID: slots[i].agentID, hostname: slots[i].hostname, attributes: slots[i].attributes, ports: ports)
    }

    /// Places `count` instances of an app with persistent volumes: each takes the next slot of `slots`, runs on the
    /// agent that holds that slot's volumes (any agent when it has none yet), and needs `demand` (without volumes) plus
    /// the disk of the volumes it creates. Stops at the first instance that finds no agent.
    public mutating func place(
        count: Int, matcher: ConstraintMatcher, used: inout ConstraintUsage, slots: inout VolumeSlots, demand: InstanceDemand
    ) -> PlacementFit {
        for placed in 0..<max(0, count) {
            guard let launch = slots.next() else {
                return .willNotFit(placed: placed, needed: count, reason: "every instance slot is held by a task: a replacement starts when the task it replaces ends")
            }
            var need = demand
            need.disk += launch.newVolumeMiB
            guard placeOne(need, matcher: matcher, used: &used, on: launch.agentID) != nil else {
                return .willNotFit(placed: placed, needed: count, reason: whyNot(need, matcher: matcher, used: used, pinnedTo: launch.agentID, slot: launch.slot))
            }
        }
        return .fits
    }

    /// Why an instance of `demand` that must run on `agent` (it holds the volumes of `slot`) does not fit there.
    public func whyNot(_ demand: InstanceDemand, matcher: ConstraintMatcher, used: ConstraintUsage, pinnedTo agent: AgentID?, slot: Int) -> String {
        guard let agent else { return reason(demand, matcher, used) }
        guard let i = indexByAgent[agent] else {
            return "instance slot \(slot) must run on agent \(agent), which holds its persistent volumes and offers nothing now"
        }
        let room = slots[i]
        let pinned = "instance slot \(slot) must run on agent \(agent) (\(slots[i].hostname)), which holds its persistent volumes"
        if let constraint = matcher.violation(hostname: slots[i].hostname, attributes: slots[i].attributes, used: used) {
            return "\(pinned), and it breaks constraint \(constraint)"
        }
        let scalars: [(String, Double, Double)] = [
            ("cpus", demand.cpus, room.cpus), ("mem", demand.mem, room.mem), ("disk", demand.disk, room.disk), ("gpus", demand.gpus, room.gpus),
        ]
        for (name, need, free) in scalars where free + ScalarFormat.epsilon < need {
            return "\(pinned), and it has \(name) \(ScalarFormat.text(max(0, ScalarFormat.rounded(free)))) free, not \(ScalarFormat.text(need))"
        }
        return "\(pinned), and it has not \(demand.description) free together"
    }

    /// Why one more instance of `demand` finds no agent (see ``place(_:count:matcher:used:)``).
    public func whyNot(_ demand: InstanceDemand, matcher: ConstraintMatcher, used: ConstraintUsage) -> String {
        reason(demand, matcher, used)
    }

    private func firstFit(_ demand: InstanceDemand, _ matcher: ConstraintMatcher, _ used: ConstraintUsage) -> Int? {
        guard !slots.isEmpty else { return nil }
        for step in 0..<slots.count {
            let i = (cursor + step) % slots.count
            if fits(demand, matcher, used, at: i) { return i }
        }
        return nil
    }

    /// Whether slot `i` has room for `demand` and meets `matcher`'s constraints.
    private func fits(_ demand: InstanceDemand, _ matcher: ConstraintMatcher, _ used: ConstraintUsage, at i: Int) -> Bool {
        Self.hasRoom(slots[i], demand) && (matcher.isEmpty || matcher.matches(hostname: slots[i].hostname, attributes: slots[i].attributes, used: used))
    }

    private static func hasNetwork(_ slot: Slot, _ demand: InstanceDemand) -> Bool {
        guard !demand.networks.isEmpty else { return true }
        return Set(demand.networks).isSubset(of: AgentAttribute.networks(slot.attributes))
    }

    private static func hasDevices(_ slot: Slot, _ demand: InstanceDemand) -> Bool {
        guard !demand.devices.isEmpty else { return true }
        return Set(demand.devices).isSubset(of: AgentAttribute.devices(slot.attributes))
    }

    private static func hasRoom(_ slot: Slot, _ demand: InstanceDemand) -> Bool {
        guard hasNetwork(slot, demand), hasDevices(slot, demand) else { return false }
        let e = ScalarFormat.epsilon
        guard slot.cpus + e >= demand.cpus, slot.mem + e >= demand.mem, slot.disk + e >= demand.disk,
            slot.gpus + e >= demand.gpus
        else { return false }
        return portsFit(slot.ports, demand)
    }

    private static func portsFit(_ ports: [ValueRange], _ demand: InstanceDemand) -> Bool {
        if demand.fixedPorts.isEmpty && demand.anyPorts == 0 { return true }
        for port in demand.fixedPorts where !ports.contains(where: { $0.contains(port) }) { return false }
        var free: UInt64 = 0
        for range in ports { free = free &+ range.count }
        return free >= UInt64(demand.fixedPorts.count + demand.anyPorts)
    }

    /// Takes an instance's resources from slot `i`; returns the agent ports it gets.
    private mutating func take(_ demand: InstanceDemand, from i: Int) -> [UInt64] {
        slots[i].cpus -= demand.cpus
        slots[i].mem -= demand.mem
        slots[i].disk -= demand.disk
        slots[i].gpus -= demand.gpus
        var chosen = demand.fixedPorts
        var ports = RangeAlgebra.subtract(slots[i].ports, demand.fixedPorts.map { ValueRange(begin: $0, end: $0) })
        for _ in 0..<demand.anyPorts {
            guard let first = ports.first else { break }
            chosen.append(first.begin)
            ports = RangeAlgebra.subtract(ports, [ValueRange(begin: first.begin, end: first.begin)])
        }
        slots[i].ports = ports
        return chosen
    }

    /// Why no agent takes one more instance: the constraint every agent breaks, the resource no eligible
    /// agent has enough of, or the combination none has.
    private func reason(_ demand: InstanceDemand, _ matcher: ConstraintMatcher, _ used: ConstraintUsage) -> String {
        guard !slots.isEmpty else { return "no agents" }
        var broken: [Constraint: Int] = [:]
        var eligible: [Slot] = []
        for slot in slots {
            if let constraint = matcher.violation(hostname: slot.hostname, attributes: slot.attributes, used: used) {
                broken[constraint, default: 0] += 1
            } else {
                eligible.append(slot)
            }
        }
        let agents = slots.count == 1 ? "the only agent" : "any of \(slots.count) agents"
        if eligible.isEmpty {
            let (constraint, _) = broken.max { ($0.value, $1.key.description) < ($1.value, $0.key.description) }!
            return "constraint \(constraint) is not met on \(agents)"
        }
        if !demand.networks.isEmpty {
            let withNetworks = eligible.filter { Self.hasNetwork($0, demand) }
            if withNetworks.isEmpty {
                let missing = demand.networks.first { network in !eligible.contains { AgentAttribute.networks($0.attributes).contains(network) } }
                return missing.map { "no agent has network '\($0)'" } ?? "no agent has networks \(demand.networks.map { "'\($0)'" }.joined(separator: " and ")) together"
            }
            eligible = withNetworks
        }
        if !demand.devices.isEmpty {
            let withDevices = eligible.filter { Self.hasDevices($0, demand) }
            if withDevices.isEmpty {
                let missing = demand.devices.first { device in !eligible.contains { AgentAttribute.devices($0.attributes).contains(device) } }
                return missing.map { "no agent has CDI device \($0)" } ?? "no agent has CDI devices \(demand.devices.joined(separator: " and ")) together"
            }
            eligible = withDevices
        }
        let scalars: [(String, Double, KeyPath<Slot, Double>)] = [
            ("cpus", demand.cpus, \.cpus), ("mem", demand.mem, \.mem), ("disk", demand.disk, \.disk),
            ("gpus", demand.gpus, \.gpus),
        ]
        for (name, need, path) in scalars where need > 0 {
            let most = eligible.map { $0[keyPath: path] }.max() ?? 0
            if most + ScalarFormat.epsilon < need {
                return "no agent has \(name) \(ScalarFormat.text(need)) free (most on one agent: \(ScalarFormat.text(max(0, ScalarFormat.rounded(most)))))"
            }
        }
        let candidates = eligible.count == slots.count ? agents : "any of the \(eligible.count) agents that meet the constraints"
        for port in demand.fixedPorts where !eligible.contains(where: { $0.ports.contains { $0.contains(port) } }) {
            return "port \(port) is not free on \(candidates)"
        }
        if !eligible.contains(where: { Self.portsFit($0.ports, demand) }) {
            return "no agent has \(demand.fixedPorts.count + demand.anyPorts) free ports"
        }
        return "no agent has \(demand.description) free together"
    }
}
