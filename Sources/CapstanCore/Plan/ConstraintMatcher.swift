/// Checks an app's placement constraints against one agent (one offer), given the values its other
/// tasks already use. Built once per app (it compiles the `like` patterns), then asked per agent:
///
/// ```swift
/// let matcher = ConstraintMatcher(app.spec.constraints)
/// var used = ConstraintUsage()
/// for task in keptTasks { matcher.record(hostname: host(task), attributes: attrs(task), in: &used) }
/// if matcher.violation(hostname: offer.hostname, attributes: offerAttributes, used: used) == nil { launch… }
/// ```
///
/// The attribute `hostname` means the agent's hostname. An agent that lacks a constrained attribute
/// satisfies no constraint on it (as in Marathon). `like` matches the whole value; a pattern that does
/// not compile (manifest validation rejects those) matches nothing.
public struct ConstraintMatcher: @unchecked Sendable {
    // @unchecked: Regex is immutable after compilation and only read here.
    public let constraints: [Constraint]
    private let patterns: [Regex<AnyRegexOutput>?]

    public init(_ constraints: [Constraint]) {
        self.constraints = constraints
        patterns = constraints.map { constraint in
            guard case .like(let pattern) = constraint.op else { return nil }
            return try? Regex(pattern)
        }
    }

    /// Whether there are no constraints (every agent matches).
    public var isEmpty: Bool { constraints.isEmpty }

    /// The first constraint an instance on this agent would break, or nil when it may go there.
    public func violation(hostname: String, attributes: [String: String], used: ConstraintUsage) -> Constraint? {
        for (index, constraint) in constraints.enumerated() {
            let value = constraint.attribute == Constraint.hostname ? hostname : attributes[constraint.attribute]
            guard let value else { return constraint }
            switch constraint.op {
            case .unique:
                if used.count(of: value, for: constraint.attribute) > 0 { return constraint }
            case .equals(let expected):
                if value != expected { return constraint }
            case .like:
                guard let regex = patterns[index], (try? regex.wholeMatch(in: value)) != nil else { return constraint }
            case .maxPer(let limit):
                if used.count(of: value, for: constraint.attribute) >= limit { return constraint }
            }
        }
        return nil
    }

    /// Whether an instance may go on this agent.
    public func matches(hostname: String, attributes: [String: String], used: ConstraintUsage) -> Bool {
        violation(hostname: hostname, attributes: attributes, used: used) == nil
    }

    /// Counts one of the app's tasks on this agent in `used` (only the attributes constraints look at).
    public func record(hostname: String, attributes: [String: String], in used: inout ConstraintUsage) {
        for constraint in constraints {
            switch constraint.op {
            case .unique, .maxPer:
                let value = constraint.attribute == Constraint.hostname ? hostname : attributes[constraint.attribute]
                if let value { used.add(value, for: constraint.attribute) }
            case .equals, .like:
                continue
            }
        }
    }
}

/// How many of an app's tasks use each value of each constrained attribute (for `unique` and `maxPer`).
public struct ConstraintUsage: Sendable, Hashable {
    private var counts: [String: [String: Int]] = [:]

    public init() {}

    /// Tasks counted with `value` for `attribute`.
    public func count(of value: String, for attribute: String) -> Int { counts[attribute]?[value] ?? 0 }

    /// Counts one more task with `value` for `attribute`.
    public mutating func add(_ value: String, for attribute: String) { counts[attribute, default: [:]][value, default: 0] += 1 }

    /// Counts one task less (a task that is being replaced), never below zero.
    public mutating func remove(_ value: String, for attribute: String) {
        guard let n = counts[attribute]?[value], n > 0 else { return }
        counts[attribute]![value] = n - 1
    }
}

extension Constraint: CustomStringConvertible {
    /// `hostname unique`, `zone equals eu-1`, `rack like r[12]`, `zone maxPer 2`.
    public var description: String {
        switch op {
        case .unique: return "\(attribute) unique"
        case .equals(let value): return "\(attribute) equals \(value)"
        case .like(let pattern): return "\(attribute) like \(pattern)"
        case .maxPer(let n): return "\(attribute) maxPer \(n)"
        }
    }
}
