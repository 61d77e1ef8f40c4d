/// Numbers the scalar resource names the allocator has seen, so quantities can be kept as small
/// `[Double]` vectors and dominant shares computed without touching strings or dictionaries.
struct ScalarLedger: Sendable {
    /// Names by slot.
    private(set) var names: [String] = []
    /// Whether each slot is left out of fairness.
    private(set) var excluded: [Bool] = []
    /// The cluster-wide total of each slot, over all agents (active or not).
    private(set) var clusterTotal: [Double] = []
    private let excludedNames: Set<String>

    init(excluding excludedNames: Set<String>) {
        self.excludedNames = excludedNames
    }

    /// The slot of `name`, if it has one. Linear: there are only a handful of names.
    @inline(__always)
    func slot(of name: String) -> Int? {
        names.firstIndex(of: name)
    }

    /// Gives every scalar name in `resources` a slot.
    mutating func register(_ resources: Resources) {
        for entry in resources.entries {
            guard case .scalar = entry.value, slot(of: entry.name) == nil else { continue }
            names.append(entry.name)
            excluded.append(excludedNames.contains(entry.name))
            clusterTotal.append(0)
        }
    }

    /// Adds (`sign` 1) or removes (`sign` -1) an agent's total from the cluster total.
    mutating func addToCluster(_ resources: Resources, sign: Double) {
        register(resources)
        add(resources, into: &clusterTotal, sign: sign)
    }

    /// Adds `sign` times the scalars of `resources` into `vector`, growing it to the slot count.
    /// Names without a slot are ignored; results are rounded and never negative.
    func add(_ resources: Resources, into vector: inout [Double], sign: Double) {
        if vector.count < names.count { vector.append(contentsOf: repeatElement(0, count: names.count - vector.count)) }
        for entry in resources.entries {
            guard case .scalar(let quantity) = entry.value, let slot = slot(of: entry.name) else { continue }
            vector[slot] = max(0, ScalarFormat.rounded(vector[slot] + sign * quantity))
        }
    }

    /// Adds `sign` times `other` into `vector`, slot by slot.
    func add(_ other: [Double], into vector: inout [Double], sign: Double) {
        if vector.count < names.count { vector.append(contentsOf: repeatElement(0, count: names.count - vector.count)) }
        for slot in other.indices {
            vector[slot] = max(0, ScalarFormat.rounded(vector[slot] + sign * other[slot]))
        }
    }

    /// DRF's dominant share: the largest fraction of any non-excluded cluster total that
    /// `allocated` holds.
    @inline(__always)
    func dominantShare(of allocated: [Double]) -> Double {
        var share = 0.0
        let count = min(allocated.count, clusterTotal.count)
        var slot = 0
        while slot < count {
            let total = clusterTotal[slot]
            if total > 0 && !excluded[slot] { share = max(share, allocated[slot] / total) }
            slot += 1
        }
        return share
    }
}
