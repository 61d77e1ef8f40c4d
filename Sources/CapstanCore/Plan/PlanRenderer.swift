/// Renders a ``Plan`` for people and programs: text (optionally with ANSI colour), versioned JSON, or
/// markdown for a pull-request comment. The output depends only on the plan and `against`: items in name
/// order, no timestamps, so the same inputs print the same bytes.
public struct PlanRenderer: Sendable {
    public enum Format: String, Sendable, Hashable, CaseIterable {
        case text, json, markdown
    }

    /// The version of the JSON format (`"formatVersion"`); it changes only when a field changes meaning or goes away.
    public static let jsonFormatVersion = 1

    /// What the desired state was compared with, as shown in headers: `live 127.0.0.1:5050`, `state.json`, `v1.2 (3c4d5e6f7a8b)`.
    public var against: String
    /// ANSI colour in text output (only for a terminal).
    public var color: Bool

    public init(against: String, color: Bool = false) {
        self.against = against
        self.color = color
    }

    public func render(_ plan: Plan, as format: Format) -> String {
        switch format {
        case .text: return text(plan)
        case .json: return json(plan)
        case .markdown: return markdown(plan)
        }
    }

    // MARK: Text

    /// One line per change (`+ create`, `~ update`, `~ scale`, `- delete`), its field changes and notes
    /// indented below, unchanged items with orchestration-only changes as `= …`, will-not-fit lines, then a summary.
    public func text(_ plan: Plan) -> String {
        var out = "Plan for \(plan.commit.short) against \(against)\n"
        let shown = plan.items.filter { $0.action != .unchanged || !$0.changes.isEmpty || $0.suspended || $0.pinnedCommit != nil }
        if !shown.isEmpty { out += "\n" }
        let width = shown.map(\.name.value.count).max() ?? 0
        for item in shown {
            let (sign, colour) = item.suspended ? ("!", "35") : Self.style(item.action)
            let verb = item.suspended ? "suspended" : item.action != .unchanged ? item.action.rawValue
                : item.pinnedCommit != nil && item.changes.isEmpty ? "pinned" : "settings"
            let name = item.name.value + String(repeating: " ", count: width - item.name.value.count)
            let instances = item.suspended ? "\(item.currentInstances) instance\(item.currentInstances == 1 ? "" : "s") left as they are" : Self.instances(item)
            out += paint(colour, "\(sign) \(verb.padding(8)) \(name)  \(instances)") + "\n"
            if let pinned = item.pinnedCommit {
                out += paint("2", "      pinned: \(pinned) (capstan rollback \(item.name) --clear follows HEAD again)") + "\n"
            }
            for change in item.changes {
                out += "      \(change.path): \(Self.value(change.old)) -> \(Self.value(change.new))\n"
            }
            for note in item.notes where item.action != .unchanged || item.suspended {
                out += paint("2", "      note: \(note)") + "\n"
            }
            if case .willNotFit(let placed, let needed, let reason) = item.fit {
                out += paint("1;31", "      will not fit: \(placed) of \(needed) new instances placed; \(reason)") + "\n"
            }
        }
        out += volumesText(plan)
        out += "\n"
        if plan.hasChanges {
            out += "Plan: \(plan.summary)\(Self.volumeSummary(plan)).\n"
            let misfits = plan.willNotFit.count
            if misfits > 0 { out += paint("1;31", "\(misfits) item\(misfits == 1 ? "" : "s") will not fit on the agents' free resources.") + "\n" }
        } else {
            let suspended = plan.suspendedCount > 0 ? ", \(plan.suspendedCount) suspended" : ""
            out += "No changes: the cluster matches \(plan.commit.short) (\(plan.count(.unchanged)) unchanged\(suspended)).\n"
        }
        return out
    }

    func paint(_ code: String, _ text: String) -> String {
        color && !code.isEmpty ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }

    static func style(_ action: PlanAction) -> (sign: String, colour: String) {
        switch action {
        case .create: return ("+", "32")
        case .update: return ("~", "33")
        case .scale: return ("~", "33")
        case .delete: return ("-", "31")
        case .unchanged: return ("=", "2")
        }
    }

    /// `3 instances`, `2 -> 3 instances`, `no restart`.
    static func instances(_ item: PlanItem) -> String {
        func n(_ count: Int) -> String { "\(count) instance\(count == 1 ? "" : "s")" }
        switch item.action {
        case .create: return n(item.desiredInstances)
        case .delete: return n(item.currentInstances)
        case .update: return (item.currentInstances == item.desiredInstances ? n(item.desiredInstances)
            : "\(item.currentInstances) -> \(n(item.desiredInstances))") + ", \(item.outdatedTasks.count) to replace"
        case .scale: return "\(item.currentInstances) -> \(n(item.desiredInstances))"
        case .unchanged: return "no restart"
        }
    }

    /// A value as compact JSON; `(none)` for a field that is absent on that side.
    static func value(_ value: CanonicalValue?) -> String { value?.json ?? "(none)" }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
