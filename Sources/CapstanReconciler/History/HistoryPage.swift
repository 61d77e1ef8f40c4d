import Foundation

/// The answer of `GET /api/v1/history/{app}`: the app's entries, newest first.
public struct HistoryPage: Codable, Sendable, Equatable {
    public var app: String
    public var entries: [HistoryEntry]

    public init(app: String, entries: [HistoryEntry]) {
        self.app = app
        self.entries = entries
    }

    /// The text `capstan history APP` prints: one row per entry (TIME EVENT COMMIT SPEC MESSAGE), newest first,
    /// times in UTC.
    public func renderTable() -> String {
        guard !entries.isEmpty else { return "no history for app '\(app)'\n" }
        var rows = [["TIME", "EVENT", "COMMIT", "SPEC", "MESSAGE"]]
        for entry in entries {
            rows.append([
                TextTable.timestamp(entry.time), entry.event.rawValue, entry.commit, entry.specLabel ?? "-", entry.message.replacingOccurrences(of: "\n", with: " "),
            ])
        }
        return TextTable.render(rows).joined(separator: "\n") + "\n"
    }
}
