/// The value of one resource, after Mesos' `Value.Type`: `SCALAR`, `RANGES` or `SET`.
public enum ResourceValue: Hashable, Sendable {
    /// A quantity, such as `cpus:2` or `mem:1024` (MB).
    case scalar(Double)
    /// Inclusive integer ranges, such as `ports:[31000-32000]`.
    case ranges([ValueRange])
    /// Named items, such as `zones:{a,b}`.
    case set([String])

    /// Orders kinds so that entries sharing a name and role sort deterministically.
    var kindRank: Int {
        switch self {
        case .scalar: 0
        case .ranges: 1
        case .set: 2
        }
    }
}

/// One named resource, unreserved (role `"*"`) or statically reserved for a role.
public struct Resource: Hashable, Sendable, CustomStringConvertible {
    /// The role of unreserved resources.
    public static let unreservedRole = "*"

    /// The resource name, such as `cpus`, `mem`, `disk`, `gpus` or `ports`.
    public var name: String
    /// The quantity, ranges or set.
    public var value: ResourceValue
    /// The role the resource is reserved for, or `"*"` when unreserved.
    public var role: String
    /// Who reserved it for `role` with RESERVE (a dynamic reservation); nil when unreserved or reserved by the agent's
    /// own flags (a static reservation).
    public var reservation: ResourceReservation?
    /// The persistent volume this disk is (made by CREATE from reserved disk); nil for plain resources.
    public var volume: PersistentVolume?

    /// Creates a resource; `role` defaults to unreserved.
    public init(
        name: String, value: ResourceValue, role: String = Resource.unreservedRole, reservation: ResourceReservation? = nil,
        volume: PersistentVolume? = nil
    ) {
        self.name = name
        self.value = value
        self.role = role
        self.reservation = reservation
        self.volume = volume
    }

    /// The same resource without its volume (what DESTROY gives back).
    public var withoutVolume: Resource {
        var copy = self
        copy.volume = nil
        return copy
    }

    /// The same resource unreserved (what UNRESERVE gives back).
    public var unreservedCopy: Resource {
        var copy = self
        copy.role = Resource.unreservedRole
        copy.reservation = nil
        copy.volume = nil
        return copy
    }

    /// A scalar resource, such as `.scalar("cpus", 2)`.
    public static func scalar(_ name: String, _ v: Double, role: String = Resource.unreservedRole) -> Resource {
        Resource(name: name, value: .scalar(v), role: role)
    }

    /// A ranges resource, such as `.ranges("ports", [ValueRange(begin: 31000, end: 32000)])`.
    public static func ranges(_ name: String, _ r: [ValueRange], role: String = Resource.unreservedRole) -> Resource {
        Resource(name: name, value: .ranges(r), role: role)
    }

    /// A set resource, such as `.set("zones", ["a", "b"])`.
    public static func set(_ name: String, _ items: [String], role: String = Resource.unreservedRole) -> Resource {
        Resource(name: name, value: .set(items), role: role)
    }

    /// The agent-flag form: `cpus:2`, `cpus(web):1`, `ports:[31000-32000]`, `zones:{a,b}`; a dynamic reservation
    /// adds its principal (`disk(web, alice):100`), a volume its ID and path (`disk(web, alice)[db:data]:100`).
    public var description: String {
        var label = role == Resource.unreservedRole ? name : "\(name)(\(role)\(reservation.map { ", \($0.principal ?? "")" } ?? ""))"
        if let volume { label += "[\(volume.id):\(volume.containerPath)]" }
        switch value {
        case .scalar(let quantity):
            return "\(label):\(ScalarFormat.text(quantity))"
        case .ranges(let ranges):
            return "\(label):[\(ranges.map(\.description).joined(separator: ", "))]"
        case .set(let items):
            return "\(label):{\(items.joined(separator: ","))}"
        }
    }
}

/// A dynamic reservation (Mesos' `ReservationInfo`): who reserved the resource with RESERVE, and its labels. Reservations
/// of one role with the same principal and labels merge; different ones stay apart.
public struct ResourceReservation: Hashable, Sendable {
    public var principal: String?
    /// Labels as key/value pairs, in the order given.
    public var labels: [ResourceLabel]

    public init(principal: String?, labels: [ResourceLabel] = []) {
        self.principal = principal
        self.labels = labels
    }

    static func compare(_ lhs: ResourceReservation?, _ rhs: ResourceReservation?) -> Int {
        switch (lhs, rhs) {
        case (nil, nil): return 0
        case (nil, _): return -1
        case (_, nil): return 1
        case let (l?, r?):
            if l.principal != r.principal { return (l.principal ?? "") < (r.principal ?? "") || l.principal == nil ? -1 : 1 }
            if l.labels.count != r.labels.count { return l.labels.count < r.labels.count ? -1 : 1 }
            for (a, b) in zip(l.labels, r.labels) where a != b {
                if a.key != b.key { return a.key < b.key ? -1 : 1 }
                return (a.value ?? "") < (b.value ?? "") || a.value == nil ? -1 : 1
            }
            return 0
        }
    }
}

/// One label of a reservation.
public struct ResourceLabel: Hashable, Sendable {
    public var key: String
    public var value: String?

    public init(key: String, value: String?) {
        self.key = key
        self.value = value
    }
}

/// A persistent volume (Mesos' `DiskInfo` with `persistence` and `volume`): disk of a role that outlives the tasks using
/// it, its data under the agent's work dir, until DESTROY. Its ID is unique per role on an agent.
public struct PersistentVolume: Hashable, Sendable {
    public var id: String
    /// Who created it.
    public var principal: String?
    /// Where tasks see it: relative to their sandbox.
    public var containerPath: String

    public init(id: String, principal: String? = nil, containerPath: String) {
        self.id = id
        self.principal = principal
        self.containerPath = containerPath
    }

    static func compare(_ lhs: PersistentVolume?, _ rhs: PersistentVolume?) -> Int {
        switch (lhs, rhs) {
        case (nil, nil): return 0
        case (nil, _): return -1
        case (_, nil): return 1
        case let (l?, r?):
            if l.id != r.id { return l.id < r.id ? -1 : 1 }
            if l.containerPath != r.containerPath { return l.containerPath < r.containerPath ? -1 : 1 }
            if l.principal != r.principal { return (l.principal ?? "") < (r.principal ?? "") || l.principal == nil ? -1 : 1 }
            return 0
        }
    }
}

/// Scalar rounding and printing. Mesos keeps scalars in fixed point with three decimals, so
/// Capstan rounds every scalar it stores to the nearest thousandth.
///
/// Rounding goes through `Int64` rather than `Double.rounded()`, which compiles to a libm call
/// in release builds, and Core links nothing but the standard library.
enum ScalarFormat {
    /// Half the resolution: two scalars closer than this are equal.
    static let epsilon = 0.0005

    /// Rounds to three decimals.
    @inline(__always)
    static func rounded(_ value: Double) -> Double {
        nearestInteger(value * 1000) / 1000
    }

    /// `value` rounded half away from zero; values beyond ±2^52 are already integers.
    @inline(__always)
    static func nearestInteger(_ value: Double) -> Double {
        guard abs(value) < 4_503_599_627_370_496 else { return value }
        return Double(Int64(value < 0 ? value - 0.5 : value + 0.5))
    }

    /// `2` for whole numbers, otherwise the shortest decimal form (`0.5`, `1.25`).
    static func text(_ value: Double) -> String {
        if abs(value) < 1e15, value == Double(Int64(value)) { return String(Int64(value)) }
        return "\(value)"
    }

    /// `value` with exactly `decimals` digits after the point, without Foundation.
    static func fixed(_ value: Double, decimals: Int) -> String {
        guard value.isFinite else { return "\(value)" }
        var scale = 1.0
        for _ in 0..<max(0, decimals) { scale *= 10 }
        let scaled = nearestInteger(abs(value) * scale)
        guard scaled < 9e18 else { return "\(value)" }
        let units = UInt64(scaled)
        let whole = units / UInt64(scale)
        let sign = value < 0 && units > 0 ? "-" : ""
        guard decimals > 0 else { return "\(sign)\(whole)" }
        var fraction = String(units % UInt64(scale))
        while fraction.count < decimals { fraction = "0" + fraction }
        return "\(sign)\(whole).\(fraction)"
    }
}
