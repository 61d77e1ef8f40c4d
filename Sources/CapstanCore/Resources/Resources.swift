/// A normalized multiset of resources: one entry per (name, role, kind, reservation, volume); ranges sorted and
/// coalesced; sets sorted and de-duplicated; scalars rounded to three decimals; zero and empty
/// entries dropped. Entries are sorted by (name, role, kind), so equal values compare equal and
/// print the same.
public struct Resources: Hashable, Sendable, Sequence, CustomStringConvertible {
    /// The normalized entries, sorted by (name, role) so output is deterministic.
    public private(set) var entries: [Resource]

    /// Normalizes `resources`: entries sharing a name, role and kind are added together.
    public init(_ resources: [Resource] = []) {
        entries = Resources.normalize(resources)
    }

    /// Wraps entries that are already normalized and sorted.
    init(normalizedEntries: [Resource]) {
        entries = normalizedEntries
    }

    /// Whether there are no resources at all.
    public var isEmpty: Bool { entries.isEmpty }

    /// The number of normalized entries.
    public var count: Int { entries.count }

    /// Iterates the normalized entries.
    public func makeIterator() -> IndexingIterator<[Resource]> { entries.makeIterator() }

    /// The sum of the scalar resource `name` over all roles; 0 when absent.
    public func scalar(_ name: String) -> Double {
        var total = 0.0
        for entry in entries where entry.name == name {
            if case .scalar(let quantity) = entry.value { total += quantity }
        }
        return ScalarFormat.rounded(total)
    }

    /// The union of the ranges resource `name` over all roles; empty when absent.
    public func ranges(_ name: String) -> [ValueRange] {
        var merged: [ValueRange] = []
        for entry in entries where entry.name == name {
            if case .ranges(let ranges) = entry.value { merged = RangeAlgebra.union(merged, ranges) }
        }
        return merged
    }

    /// The union of the set resource `name` over all roles; empty when absent.
    public func set(_ name: String) -> [String] {
        var merged: [String] = []
        for entry in entries where entry.name == name {
            if case .set(let items) = entry.value { merged = SortedSetAlgebra.union(merged, items) }
        }
        return merged
    }

    /// CPUs over all roles.
    public var cpus: Double { scalar("cpus") }
    /// Memory in MB over all roles.
    public var mem: Double { scalar("mem") }
    /// Disk in MB over all roles.
    public var disk: Double { scalar("disk") }
    /// GPUs over all roles.
    public var gpus: Double { scalar("gpus") }

    /// The entries reserved for `role` (entries whose role equals `role`).
    public func reserved(for role: String) -> Resources {
        filtered { $0.role == role }
    }

    /// The unreserved entries (role `"*"`).
    public var unreserved: Resources {
        filtered { $0.role == Resource.unreservedRole }
    }

    /// What a framework in `role` may be offered: the unreserved entries plus those reserved
    /// for `role`.
    public func allocatable(to role: String) -> Resources {
        filtered { $0.role == Resource.unreservedRole || $0.role == role }
    }

    /// The entries that are not persistent volumes.
    public var withoutVolumes: Resources {
        filtered { $0.volume == nil }
    }

    /// Whether any entry is reserved for a role.
    public var hasReservations: Bool {
        entries.contains { $0.role != Resource.unreservedRole }
    }

    /// `"cpus:2; mem:1024; ports:[31000-32000]"`, with reservations as `"cpus(web):1"`.
    public var description: String {
        entries.map(\.description).joined(separator: "; ")
    }

    /// Keeps the entries matching `keep`, returning `self` unchanged (no copy) when all match.
    private func filtered(_ keep: (Resource) -> Bool) -> Resources {
        guard let firstDropped = entries.firstIndex(where: { !keep($0) }) else { return self }
        var kept = Array(entries[..<firstDropped])
        for entry in entries[(firstDropped + 1)...] where keep(entry) { kept.append(entry) }
        return Resources(normalizedEntries: kept)
    }
}

// MARK: - Normalization

extension Resources {
    /// Orders two entries by (name, role, kind): negative, zero or positive.
    @inline(__always)
    static func compareKeys(_ lhs: Resource, _ rhs: Resource) -> Int {
        if lhs.name != rhs.name { return lhs.name < rhs.name ? -1 : 1 }
        if lhs.role != rhs.role { return lhs.role < rhs.role ? -1 : 1 }
        let kinds = lhs.value.kindRank - rhs.value.kindRank
        if kinds != 0 { return kinds }
        if lhs.reservation == nil && rhs.reservation == nil && lhs.volume == nil && rhs.volume == nil { return 0 }
        let reservations = ResourceReservation.compare(lhs.reservation, rhs.reservation)
        return reservations != 0 ? reservations : PersistentVolume.compare(lhs.volume, rhs.volume)
    }

    /// Normalizes and sorts arbitrary input, adding entries with the same key.
    static func normalize(_ input: [Resource]) -> [Resource] {
        var items: [Resource] = []
        items.reserveCapacity(input.count)
        for resource in input {
            if let normalized = normalizedEntry(resource) { items.append(normalized) }
        }
        if items.count < 2 { return items }
        items.sort { compareKeys($0, $1) < 0 }
        var out: [Resource] = []
        out.reserveCapacity(items.count)
        for item in items {
            if let last = out.last, compareKeys(last, item) == 0 {
                if let sum = combine(last, item) {
                    out[out.count - 1] = sum
                } else {
                    out.removeLast()
                }
            } else {
                out.append(item)
            }
        }
        return out
    }

    /// One entry in normal form, or nil when it is zero, negative, not finite or empty.
    static func normalizedEntry(_ resource: Resource) -> Resource? {
        var copy = resource
        switch resource.value {
        case .scalar(let quantity):
            guard quantity.isFinite else { return nil }
            let rounded = ScalarFormat.rounded(quantity)
            guard rounded > 0 else { return nil }
            copy.value = .scalar(rounded)
        case .ranges(let ranges):
            let coalesced = RangeAlgebra.coalesce(ranges)
            guard !coalesced.isEmpty else { return nil }
            copy.value = .ranges(coalesced)
        case .set(let items):
            let normalized = SortedSetAlgebra.normalize(items)
            guard !normalized.isEmpty else { return nil }
            copy.value = .set(normalized)
        }
        return copy
    }

    /// The sum of two normalized entries with the same key.
    @inline(__always)
    static func combine(_ lhs: Resource, _ rhs: Resource) -> Resource? {
        var out = lhs
        switch (lhs.value, rhs.value) {
        case (.scalar(let a), .scalar(let b)):
            out.value = .scalar(ScalarFormat.rounded(a + b))
        case (.ranges(let a), .ranges(let b)):
            out.value = .ranges(RangeAlgebra.union(a, b))
        case (.set(let a), .set(let b)):
            out.value = .set(SortedSetAlgebra.union(a, b))
        default:
            return lhs
        }
        return out
    }

    /// `lhs` less `rhs` (same key), or nil when nothing is left.
    @inline(__always)
    static func difference(_ lhs: Resource, _ rhs: Resource) -> Resource? {
        var out = lhs
        switch (lhs.value, rhs.value) {
        case (.scalar(let a), .scalar(let b)):
            let left = ScalarFormat.rounded(a - b)
            guard left > ScalarFormat.epsilon else { return nil }
            out.value = .scalar(left)
        case (.ranges(let a), .ranges(let b)):
            let left = RangeAlgebra.subtract(a, b)
            guard !left.isEmpty else { return nil }
            out.value = .ranges(left)
        case (.set(let a), .set(let b)):
            let left = SortedSetAlgebra.subtract(a, b)
            guard !left.isEmpty else { return nil }
            out.value = .set(left)
        default:
            return lhs
        }
        return out
    }

    /// Whether `outer` holds all of `inner` (same key).
    @inline(__always)
    static func entryContains(_ outer: Resource, _ inner: Resource) -> Bool {
        switch (outer.value, inner.value) {
        case (.scalar(let a), .scalar(let b)):
            return a + ScalarFormat.epsilon >= b
        case (.ranges(let a), .ranges(let b)):
            return RangeAlgebra.contains(a, b)
        case (.set(let a), .set(let b)):
            return SortedSetAlgebra.contains(a, b)
        default:
            return false
        }
    }
}
