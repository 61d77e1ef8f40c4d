import CapstanAPI
import CapstanCore

/// What is left of one offer while the reconciler places instances on it: scalars and port ranges are taken
/// instance by instance, so one offer can carry several launches.
struct OfferSlot {
    let offer: Offer
    let attributes: [String: String]
    private(set) var cpus: Double
    private(set) var mem: Double
    private(set) var disk: Double
    private(set) var gpus: Double
    private(set) var ports: [ValueRange]
    private(set) var launches: [TaskInfo] = []

    init(_ offer: Offer) throws {
        self.offer = offer
        let resources = try Resources(mesos: offer.resources)
        cpus = resources.cpus
        mem = resources.mem
        disk = resources.disk
        gpus = resources.gpus
        ports = resources.ranges("ports").sorted { $0.begin < $1.begin }
        var attributes: [String: String] = [:]
        for attribute in offer.attributes {
            if let text = attribute.text?.value {
                attributes[attribute.name] = text
            } else if let scalar = attribute.scalar?.value {
                attributes[attribute.name] = CanonicalValue.formatNumber(scalar)
            }
        }
        self.attributes = attributes
    }

    /// The agent ports an instance needing `demand` would get here (its fixed ports, then the lowest free ones for
    /// `anyPorts`), or nil when its scalars or ports do not fit.
    func portsFor(_ demand: InstanceDemand) -> [UInt64]? {
        let epsilon = 1e-9
        guard cpus + epsilon >= demand.cpus, mem + epsilon >= demand.mem, disk + epsilon >= demand.disk,
            gpus + epsilon >= demand.gpus
        else { return nil }
        var free = ports
        var chosen: [UInt64] = []
        for port in demand.fixedPorts {
            guard let i = free.firstIndex(where: { $0.contains(port) }) else { return nil }
            free = Self.remove(port, from: free, at: i)
            chosen.append(port)
        }
        for _ in 0..<demand.anyPorts {
            guard let first = free.first else { return nil }
            free = Self.remove(first.begin, from: free, at: 0)
            chosen.append(first.begin)
        }
        return chosen
    }

    /// Takes an instance's resources and records its launch.
    mutating func take(_ demand: InstanceDemand, ports taken: [UInt64], task: TaskInfo) {
        cpus -= demand.cpus
        mem -= demand.mem
        disk -= demand.disk
        gpus -= demand.gpus
        for port in taken {
            if let i = ports.firstIndex(where: { $0.contains(port) }) { ports = Self.remove(port, from: ports, at: i) }
        }
        launches.append(task)
    }

    private static func remove(_ port: UInt64, from ranges: [ValueRange], at i: Int) -> [ValueRange] {
        var ranges = ranges
        let range = ranges.remove(at: i)
        var pieces: [ValueRange] = []
        if range.begin < port { pieces.append(ValueRange(begin: range.begin, end: port - 1)) }
        if port < range.end { pieces.append(ValueRange(begin: port + 1, end: range.end)) }
        ranges.insert(contentsOf: pieces, at: i)
        return ranges
    }
}
