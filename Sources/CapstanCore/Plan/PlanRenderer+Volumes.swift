extension PlanRenderer {
    /// The persistent volumes section of the text plan: one line per volume (`+ create`, `= keep`, `! retain`,
    /// `- destroy`) with its ID, size, path and agent, and its note indented below. Empty without volumes.
    func volumesText(_ plan: Plan) -> String {
        guard !plan.volumes.isEmpty else { return "" }
        var out = "\nPersistent volumes:\n"
        let width = plan.volumes.map(\.id.persistenceID.count).max() ?? 0
        for volume in plan.volumes {
            let (sign, colour) = Self.style(volume.action)
            let id = volume.id.persistenceID.padding(width)
            out += paint(colour, "\(sign) \(volume.action.rawValue.padding(8)) \(id)  \(Self.volumeDetail(volume))") + "\n"
            if let note = volume.note { out += paint("2", "      note: \(note)") + "\n" }
        }
        return out
    }

    /// `1024 MiB at /data on agent A, used by db.1a2b.3c4d`.
    static func volumeDetail(_ volume: PlannedVolume) -> String {
        var parts = ["\(ScalarFormat.text(volume.sizeMiB)) MiB"]
        if let path = volume.path { parts.append("at \(path)") }
        if let agent = volume.agentID {
            parts.append("on agent \(agent)")
        } else if volume.action == .create {
            parts.append("on the agent its instance lands on")
        }
        var text = parts.joined(separator: " ")
        if let task = volume.usedBy { text += ", used by \(task)" }
        return text
    }

    static func style(_ action: PlannedVolume.Action) -> (sign: String, colour: String) {
        switch action {
        case .create: return ("+", "32")
        case .keep: return ("=", "2")
        case .retain: return ("!", "33")
        case .destroy: return ("-", "31")
        }
    }

    /// `, 1 volume to destroy` (empty when none).
    static func volumeSummary(_ plan: Plan) -> String {
        let destroys = plan.volumesToDestroy
        return destroys == 0 ? "" : ", \(destroys) volume\(destroys == 1 ? "" : "s") to destroy"
    }

    /// The volumes as a markdown table (empty without volumes).
    func volumesMarkdown(_ plan: Plan) -> String {
        guard !plan.volumes.isEmpty else { return "" }
        var out = "\n**Persistent volumes**\n\n| | Volume | Action | Size | Path | Agent | Note |\n| --- | --- | --- | --- | --- | --- | --- |\n"
        for volume in plan.volumes {
            out += "| \(Self.style(volume.action).sign) | `\(volume.id)` | \(volume.action.rawValue) | \(ScalarFormat.text(volume.sizeMiB)) MiB | "
                + "\(volume.path.map { "`\(Self.escape($0))`" } ?? "—") | \(volume.agentID.map { "`\($0)`" } ?? "—") | "
                + "\(Self.escape(volume.note ?? (volume.usedBy.map { "used by \($0)" } ?? ""))) |\n"
        }
        return out
    }

    /// One volume in the JSON plan.
    static func jsonVolume(_ volume: PlannedVolume) -> CanonicalValue {
        var fields: [String: CanonicalValue] = [
            "id": .string(volume.id.persistenceID),
            "app": .string(volume.id.app.value),
            "slot": .number(Double(volume.id.slot)),
            "action": .string(volume.action.rawValue),
            "sizeMiB": .number(volume.sizeMiB),
        ]
        if let path = volume.path { fields["path"] = .string(path) }
        if let agent = volume.agentID { fields["agent"] = .string(agent.value) }
        if let task = volume.usedBy { fields["usedBy"] = .string(task.value) }
        if let note = volume.note { fields["note"] = .string(note) }
        return .object(fields)
    }
}
