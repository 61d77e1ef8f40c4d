/// Addition, saturating subtraction and containment, each a single merge over the sorted entries.
extension Resources {
    /// Whether `other` fits in `self`: for each (name, role, kind) of `other`, scalars are at
    /// least as large (within half a thousandth), and ranges and sets are supersets.
    public func contains(_ other: Resources) -> Bool {
        if other.entries.isEmpty || entries == other.entries { return true }
        var index = 0
        for wanted in other.entries {
            while index < entries.count && Resources.compareKeys(entries[index], wanted) < 0 { index += 1 }
            guard index < entries.count,
                Resources.compareKeys(entries[index], wanted) == 0,
                Resources.entryContains(entries[index], wanted)
            else { return false }
        }
        return true
    }

    /// The sum: scalars added, ranges and sets united.
    public static func + (l: Resources, r: Resources) -> Resources {
        if r.entries.isEmpty { return l }
        if l.entries.isEmpty { return r }
        let lhs = l.entries
        let rhs = r.entries
        var out: [Resource] = []
        out.reserveCapacity(lhs.count + rhs.count)
        var i = 0
        var j = 0
        while i < lhs.count && j < rhs.count {
            let order = compareKeys(lhs[i], rhs[j])
            if order < 0 {
                out.append(lhs[i])
                i += 1
            } else if order > 0 {
                out.append(rhs[j])
                j += 1
            } else {
                if let sum = combine(lhs[i], rhs[j]) { out.append(sum) }
                i += 1
                j += 1
            }
        }
        out.append(contentsOf: lhs[i...])
        out.append(contentsOf: rhs[j...])
        return Resources(normalizedEntries: out)
    }

    /// The difference, saturating: scalars never go below zero, ranges and sets lose the values
    /// in `r`, and what `r` has that `l` lacks is ignored.
    public static func - (l: Resources, r: Resources) -> Resources {
        if r.entries.isEmpty || l.entries.isEmpty { return l }
        if l.entries == r.entries { return Resources() }
        let lhs = l.entries
        let rhs = r.entries
        var out: [Resource] = []
        out.reserveCapacity(lhs.count)
        var j = 0
        for entry in lhs {
            while j < rhs.count && compareKeys(rhs[j], entry) < 0 { j += 1 }
            if j < rhs.count && compareKeys(rhs[j], entry) == 0 {
                if let left = difference(entry, rhs[j]) { out.append(left) }
            } else {
                out.append(entry)
            }
        }
        return Resources(normalizedEntries: out)
    }

    /// Adds `r` to `l`.
    public static func += (l: inout Resources, r: Resources) { l = l + r }

    /// Subtracts `r` from `l`, saturating.
    public static func -= (l: inout Resources, r: Resources) { l = l - r }
}
