import CapstanCore
import Foundation
import Logging

/// What became of a commit handed to the reconciler.
public enum ApplyOutcome: Sendable, Equatable {
    /// The commit's apps are now the desired state; its plan's entries by action.
    case applied(created: [AppName], updated: [AppName], scaled: [AppName], deleted: [AppName])
    /// Applied once the framework's tasks are read from the master.
    case deferred
    /// Nothing changed; the reason is in the status.
    case refused(String)
}

extension Reconciler {
    /// Makes a valid commit's apps the desired state: the machine plans it against the tasks, journals the
    /// plan's entries and starts deletions (see ``ReconcileMachine/commit(_:now:)``).
    @discardableResult
    public func apply(_ desired: DesiredState) async -> ApplyOutcome {
        headCommit = desired.commit
        lastSync = Date()
        sourceError = nil
        diagnostics = []
        let (outcome, actions) = machine.commit(desired, now: now())
        queuedCalls += await perform(actions)
        switch outcome {
        case .applied(let created, let updated, let scaled, let deleted):
            logger.info(
                "Applied commit",
                metadata: ["commit": "\(desired.commitLabel)", "created": "\(created)", "updated": "\(updated)", "scaled": "\(scaled)", "deleted": "\(deleted)"])
            return .applied(created: created, updated: updated, scaled: scaled, deleted: deleted)
        case .deferred:
            logger.info("Commit waits for the master's task list", metadata: ["commit": "\(desired.commitLabel)"])
            return .deferred
        case .refused(let message):
            logger.error("Refused the commit", metadata: ["commit": "\(desired.commitLabel)", "reason": "\(message)"])
            return .refused(message)
        }
    }

    /// Records a commit that failed validation: nothing changes; the diagnostics show in the status.
    public func reject(commit: CommitID, diagnostics: [String]) async {
        headCommit = commit
        lastSync = Date()
        let short = commit.short
        let running = machine.appliedCommit.map { "still running \($0.short)" } ?? "nothing applied yet"
        sourceError = "commit \(short) is invalid (\(diagnostics.count) problem\(diagnostics.count == 1 ? "" : "s")); \(running)"
        self.diagnostics = diagnostics
        try? await store.recordSync(commit: short, outcome: .invalid, message: diagnostics.first ?? "invalid")
        for name in machine.apps.keys.sorted() {
            await journal(JournalEntry(app: name, event: .invalidCommit, commit: commit.hex, message: "commit \(short) is invalid; \(running)"))
        }
    }

    /// Records that git could not be read; nothing changes.
    public func sourceFailed(_ message: String) {
        sourceError = message
        lastSync = Date()
    }
}
