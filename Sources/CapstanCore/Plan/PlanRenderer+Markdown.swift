extension PlanRenderer {
    /// The plan as GitHub-flavoured markdown for a pull-request comment: a heading, the summary, a table of
    /// the items that change, then each item's field changes in a collapsed `<details>` block.
    public func markdown(_ plan: Plan) -> String {
        let commit = plan.commit.short
        var out = "### capstan diff: `\(commit)` against \(Self.escape(against))\n\n"
        let suspended = plan.items.filter(\.suspended)
        var held = ""
        for item in suspended {
            held += "\n> [!NOTE]\n> `\(item.name)` is suspended (`capstan resume \(item.name)`): \(Self.escape(item.notes.first ?? "suspended")).\n"
        }
        guard plan.hasChanges else {
            let count = suspended.isEmpty ? "" : ", \(suspended.count) suspended"
            return out + "No changes: the cluster matches `\(commit)` (\(plan.count(.unchanged)) unchanged\(count)).\n" + held + volumesMarkdown(plan)
        }
        out += held.isEmpty ? "" : held + "\n"
        out += "**Plan:** \(plan.summary)\(Self.volumeSummary(plan)).\n"
        let misfits = plan.willNotFit.count
        if misfits > 0 { out += "\n> [!WARNING]\n> \(misfits) item\(misfits == 1 ? "" : "s") will not fit on the agents' free resources.\n" }
        out += "\n| | Name | Kind | Action | Instances | Fit |\n| --- | --- | --- | --- | --- | --- |\n"
        for item in plan.changes {
            let sign = Self.style(item.action).sign
            out += "| \(sign) | `\(item.name)` | \(item.kind.rawValue) | \(item.action.rawValue) | "
                + "\(Self.escape(Self.instances(item))) | \(Self.fitText(item.fit)) |\n"
        }
        for item in plan.items where !item.changes.isEmpty || (!item.notes.isEmpty && item.action != .unchanged) {
            let count = item.changes.count
            out += "\n<details><summary><code>\(item.name)</code>: \(item.action == .unchanged ? "settings only, no restart" : item.action.rawValue)"
                + ", \(count) field change\(count == 1 ? "" : "s")</summary>\n\n"
            if !item.changes.isEmpty {
                out += "| Field | Old | New |\n| --- | --- | --- |\n"
                for change in item.changes {
                    out += "| `\(change.path)` | \(Self.code(change.old)) | \(Self.code(change.new)) |\n"
                }
            }
            if item.action != .unchanged {
                for note in item.notes { out += "\n_Note:_ \(Self.escape(note))\n" }
            }
            out += "\n</details>\n"
        }
        return out + volumesMarkdown(plan)
    }

    static func fitText(_ fit: PlacementFit?) -> String {
        switch fit {
        case nil: return ""
        case .fits?: return "fits"
        case .unchecked?: return "not checked"
        case .willNotFit(let placed, let needed, let reason)?:
            return "**will not fit** (\(placed) of \(needed) placed: \(escape(reason)))"
        }
    }

    /// A value in a table cell: inline code, pipes escaped; an absent side is an em dash.
    static func code(_ value: CanonicalValue?) -> String {
        guard let value else { return "—" }
        return "`" + value.json.replacingPipes().replacingBackticks() + "`"
    }

    /// Text safe in a table cell.
    static func escape(_ text: String) -> String { text.replacingPipes() }
}

extension String {
    func replacingPipes() -> String {
        var out = ""
        for ch in self { if ch == "|" { out += "\\|" } else { out.append(ch) } }
        return out
    }

    func replacingBackticks() -> String {
        var out = ""
        for ch in self { out.append(ch == "`" ? "'" : ch) }
        return out
    }
}
