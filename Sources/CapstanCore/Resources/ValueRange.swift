/// An inclusive range of integers, as Mesos `Value.Range`: `[31000-32000]` holds both ends.
public struct ValueRange: Hashable, Sendable, CustomStringConvertible {
    /// The first value in the range.
    public var begin: UInt64
    /// The last value in the range (inclusive).
    public var end: UInt64

    /// Creates the range `begin...end`; a range whose `begin` is past its `end` is empty and is
    /// dropped when it becomes part of a ``Resources`` value.
    public init(begin: UInt64, end: UInt64) {
        self.begin = begin
        self.end = end
    }

    /// How many values the range holds, saturating at `UInt64.max` for the full range.
    public var count: UInt64 {
        guard begin <= end else { return 0 }
        let span = end - begin
        return span == .max ? .max : span + 1
    }

    /// Whether `value` lies in the range.
    public func contains(_ value: UInt64) -> Bool { begin <= value && value <= end }

    /// `"31000-32000"`, the form used inside `ports:[…]`.
    public var description: String { "\(begin)-\(end)" }
}

/// Set algebra on range lists. Every function but ``coalesce(_:)`` expects its inputs coalesced:
/// sorted by `begin`, non-empty, and neither overlapping nor adjacent.
enum RangeAlgebra {
    /// Sorts, drops empty ranges and merges overlapping or adjacent ones (`1-2, 3-4` becomes `1-4`).
    static func coalesce(_ ranges: [ValueRange]) -> [ValueRange] {
        if isCoalesced(ranges) { return ranges }
        let sorted = ranges.filter { $0.begin <= $0.end }.sorted { $0.begin < $1.begin }
        var out: [ValueRange] = []
        out.reserveCapacity(sorted.count)
        for range in sorted {
            if let last = out.last, last.end == .max || range.begin <= last.end + 1 {
                out[out.count - 1].end = max(last.end, range.end)
            } else {
                out.append(range)
            }
        }
        return out
    }

    /// Whether `ranges` is already in coalesced form, so the common case copies nothing.
    static func isCoalesced(_ ranges: [ValueRange]) -> Bool {
        var previousEnd: UInt64? = nil
        for range in ranges {
            guard range.begin <= range.end else { return false }
            if let previousEnd, previousEnd == .max || range.begin <= previousEnd + 1 { return false }
            previousEnd = range.end
        }
        return true
    }

    /// The union of two coalesced lists.
    static func union(_ lhs: [ValueRange], _ rhs: [ValueRange]) -> [ValueRange] {
        if rhs.isEmpty || lhs == rhs { return lhs }
        if lhs.isEmpty { return rhs }
        return coalesce(lhs + rhs)
    }

    /// The values of `lhs` that are not in `rhs`.
    static func subtract(_ lhs: [ValueRange], _ rhs: [ValueRange]) -> [ValueRange] {
        if rhs.isEmpty { return lhs }
        if lhs == rhs { return [] }
        var out: [ValueRange] = []
        var first = 0
        for range in lhs {
            while first < rhs.count && rhs[first].end < range.begin { first += 1 }
            var start = range.begin
            var remains = true
            var index = first
            while index < rhs.count && rhs[index].begin <= range.end {
                let cut = rhs[index]
                if cut.begin > start { out.append(ValueRange(begin: start, end: cut.begin - 1)) }
                if cut.end >= range.end {
                    remains = false
                    break
                }
                start = max(start, cut.end + 1)
                index += 1
            }
            if remains { out.append(ValueRange(begin: start, end: range.end)) }
        }
        return out
    }

    /// Whether every value of `inner` is in `outer`.
    static func contains(_ outer: [ValueRange], _ inner: [ValueRange]) -> Bool {
        var index = 0
        for range in inner {
            while index < outer.count && outer[index].end < range.begin { index += 1 }
            guard index < outer.count, outer[index].begin <= range.begin, range.end <= outer[index].end else {
                return false
            }
        }
        return true
    }
}

/// Set algebra on sorted, duplicate-free string lists (the values of a `SET` resource).
enum SortedSetAlgebra {
    /// Sorts and removes duplicates and empty strings.
    static func normalize(_ items: [String]) -> [String] {
        var sorted = items.filter { !$0.isEmpty }.sorted()
        var write = 0
        for read in sorted.indices where write == 0 || sorted[read] != sorted[write - 1] {
            sorted[write] = sorted[read]
            write += 1
        }
        sorted.removeLast(sorted.count - write)
        return sorted
    }

    static func union(_ lhs: [String], _ rhs: [String]) -> [String] {
        if rhs.isEmpty || lhs == rhs { return lhs }
        return normalize(lhs + rhs)
    }

    static func subtract(_ lhs: [String], _ rhs: [String]) -> [String] {
        if rhs.isEmpty { return lhs }
        let removed = Set(rhs)
        return lhs.filter { !removed.contains($0) }
    }

    static func contains(_ outer: [String], _ inner: [String]) -> Bool {
        if inner.count > outer.count { return false }
        let present = Set(outer)
        return inner.allSatisfy { present.contains($0) }
    }
}
