import Foundation

extension ReconcilerStatus {
    /// The text `capstan status` prints: a short header (repo, revision, head and applied commits, last sync), one
    /// row per app (healthy/running/desired instances), then the error and the diagnostics of an invalid commit.
    /// The output depends only on the value (dates in UTC), so it can be compared with golden text.
    public func renderTable() -> String {
        var lines: [String] = []
        lines.append("repo:      \(repo) @ \(revision)")
        var head = "head:      \(headCommit ?? "-")"
        if let appliedCommit, appliedCommit != headCommit { head += " (applied \(appliedCommit))" }
        if appliedCommit == nil, headCommit != nil { head += " (nothing applied yet)" }
        lines.append(head)
        lines.append("last sync: \(lastSync.map(TextTable.timestamp) ?? "never")")
        lines.append("")
        if apps.isEmpty {
            lines.append("no apps")
        } else {
            var rows = [["APP", "KIND", "PHASE", "INSTANCES", "DESIRED", "RUNNING", "REASON"]]
            for app in apps.sorted(by: { $0.name < $1.name }) {
                rows.append([
                    app.name, app.kind, app.phaseText,
                    "\(app.healthyInstances)/\(app.runningInstances)/\(app.desiredInstances)",
                    app.desiredCommit ?? "-", app.runningCommit ?? "-", app.reason ?? "-",
                ])
            }
            lines += TextTable.render(rows)
        }
        if let volumes, !volumes.isEmpty {
            lines.append("")
            var rows = [["VOLUME", "SIZE", "PATH", "AGENT", "STATE", "USED BY"]]
            for volume in volumes {
                rows.append([
                    volume.id, "\(TextTable.number(volume.sizeMiB)) MiB", volume.path ?? "-", volume.agent ?? "-",
                    volume.action + (volume.note.map { " (\($0))" } ?? ""), volume.usedBy ?? "-",
                ])
            }
            lines += TextTable.render(rows)
        }
        if let error {
            lines.append("")
            lines.append("error: \(error)")
        }
        for diagnostic in diagnostics { lines.append("  \(diagnostic)") }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension AppStatus {
    /// The phase as tables show it: `Synced`, `Progressing (suspended)`, `Synced (pinned 3c4d5e6f7a8b)`.
    public var phaseText: String {
        var marks: [String] = []
        if suspended { marks.append("suspended") }
        if let pinned { marks.append("pinned \(pinned)") }
        return phase.rawValue + (marks.isEmpty ? "" : " (\(marks.joined(separator: ", ")))")
    }
}

/// Left-aligned columns separated by two spaces, as `capstan image ls` prints them.
public enum TextTable {
    public static func render(_ rows: [[String]]) -> [String] {
        let columns = rows.map(\.count).max() ?? 0
        let widths = (0..<columns).map { column in rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        return rows.map { row in
            var line = ""
            for (index, cell) in row.enumerated() {
                line += index == row.count - 1 ? cell : cell.padding(toLength: widths[index] + 2, withPad: " ", startingAt: 0)
            }
            return line.trimmingTrailingSpaces()
        }
    }

    /// `1024`, `0.5`.
    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    /// `2026-01-02T03:04:05Z`.
    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }
}
