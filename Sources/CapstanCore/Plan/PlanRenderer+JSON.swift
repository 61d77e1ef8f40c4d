extension PlanRenderer {
    /// The plan as pretty-printed JSON (keys sorted, two-space indent), format version ``jsonFormatVersion``:
    ///
    /// ```json
    /// {"against": "…", "commit": "…", "formatVersion": 1, "hasChanges": true,
    ///  "summary": {"create": 1, "delete": 0, "scale": 0, "unchanged": 3, "update": 1, "willNotFit": 0},
    ///  "items": [{"name": "web", "kind": "App", "action": "update",
    ///             "instances": {"current": 2, "desired": 3}, "templateLabel": "…",
    ///             "changes": [{"path": "spec.env.MODE", "old": "dev", "new": "prod"}],
    ///             "fit": {"status": "fits"}, "tasks": […], "outdatedTasks": […], "runningCommits": […], "notes": […]}]}
    /// ```
    /// Every app and job is an item, unchanged ones included. In a change, `old` or `new` is left out when
    /// the field is absent on that side. `fit` is present only for items that launch instances; its
    /// `status` is `fits`, `willNotFit` (with `placed`, `needed`, `reason`) or `unchecked`. When apps have persistent
    /// volumes, `volumes` lists each (`id`, `app`, `slot`, `action` create/keep/retain/destroy, `sizeMiB`, and `path`,
    /// `agent`, `usedBy`, `note` when known) and `summary.volumesToDestroy` counts the destroys. A suspended app's item
    /// has `"suspended": true` (its action is `unchanged`) and `summary.suspended` counts them.
    public func json(_ plan: Plan) -> String {
        var summary: [String: CanonicalValue] = [:]
        for action in PlanAction.allCases { summary[action.rawValue] = .number(Double(plan.count(action))) }
        summary["willNotFit"] = .number(Double(plan.willNotFit.count))
        if plan.suspendedCount > 0 { summary["suspended"] = .number(Double(plan.suspendedCount)) }
        var fields: [String: CanonicalValue] = [
            "formatVersion": .number(Double(Self.jsonFormatVersion)),
            "commit": .string(plan.commit.hex),
            "against": .string(against),
            "hasChanges": .bool(plan.hasChanges),
            "summary": .object(summary),
            "items": .array(plan.items.map(Self.jsonItem)),
        ]
        // Present when any app has persistent volumes (older consumers see the same document as before otherwise).
        if !plan.volumes.isEmpty {
            fields["volumes"] = .array(plan.volumes.map(Self.jsonVolume))
            summary["volumesToDestroy"] = .number(Double(plan.volumesToDestroy))
            fields["summary"] = .object(summary)
        }
        let root: CanonicalValue = .object(fields)
        var out = ""
        Self.writePretty(root, indent: 0, to: &out)
        return out + "\n"
    }

    static func jsonItem(_ item: PlanItem) -> CanonicalValue {
        var fields: [String: CanonicalValue] = [
            "name": .string(item.name.value),
            "kind": .string(item.kind.rawValue),
            "action": .string(item.action.rawValue),
            "instances": .object([
                "current": .number(Double(item.currentInstances)), "desired": .number(Double(item.desiredInstances)),
            ]),
            "templateLabel": item.templateLabel.map(CanonicalValue.string) ?? .null,
            "changes": .array(item.changes.map { change in
                var c: [String: CanonicalValue] = ["path": .string(change.path)]
                if let old = change.old { c["old"] = old }
                if let new = change.new { c["new"] = new }
                return .object(c)
            }),
            "tasks": .array(item.tasks.map { .string($0.value) }),
            "outdatedTasks": .array(item.outdatedTasks.map { .string($0.value) }),
            "runningCommits": .array(item.runningCommits.map(CanonicalValue.string)),
            "notes": .array(item.notes.map(CanonicalValue.string)),
        ]
        if item.suspended { fields["suspended"] = .bool(true) }
        if let pinned = item.pinnedCommit { fields["pinned"] = .string(pinned) }
        switch item.fit {
        case nil: break
        case .fits?: fields["fit"] = .object(["status": .string("fits")])
        case .unchecked?: fields["fit"] = .object(["status": .string("unchecked")])
        case .willNotFit(let placed, let needed, let reason)?:
            fields["fit"] = .object([
                "status": .string("willNotFit"), "placed": .number(Double(placed)), "needed": .number(Double(needed)),
                "reason": .string(reason),
            ])
        }
        return .object(fields)
    }

    /// Canonical JSON with line breaks and indentation; empty arrays and objects stay on one line.
    static func writePretty(_ value: CanonicalValue, indent: Int, to out: inout String) {
        let pad = String(repeating: "  ", count: indent + 1)
        let closing = String(repeating: "  ", count: indent)
        switch value {
        case .array(let items) where !items.isEmpty:
            out += "[\n"
            for (i, item) in items.enumerated() {
                out += pad
                writePretty(item, indent: indent + 1, to: &out)
                out += i == items.count - 1 ? "\n" : ",\n"
            }
            out += closing + "]"
        case .object(let fields) where !fields.isEmpty:
            out += "{\n"
            for (i, key) in fields.keys.sorted().enumerated() {
                out += pad
                out += CanonicalValue.string(key).json + ": "
                writePretty(fields[key]!, indent: indent + 1, to: &out)
                out += i == fields.count - 1 ? "\n" : ",\n"
            }
            out += closing + "}"
        default:
            out += value.json
        }
    }
}
