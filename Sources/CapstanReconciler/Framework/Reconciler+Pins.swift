import CapstanCore
import CapstanGit
import Foundation
import Logging

extension Reconciler {
    /// Lets the reconciler read commits itself (``load(commit:)``, `capstan rollback`).
    public func setLoader(_ loader: DesiredStateLoader) {
        self.loader = loader
    }

    /// Reads `commit` with the pinned apps at their pins and applies it (or records it as invalid). Pins that a newer
    /// commit lifted are removed and journalled.
    public func load(commit: CommitID) async {
        guard let loader else { return }
        let result: PinnedLoad
        do {
            result = try await loader.load(commit: commit, pins: Array(pins.values))
        } catch {
            await reject(commit: commit, diagnostics: ["\(error)"])
            return
        }
        guard let desired = result.desiredState else {
            let lines = result.loaded.manifests.diagnostics.map { "\($0)" }
            logger.error("Commit is invalid; nothing changes", metadata: ["commit": "\(commit.short)", "problems": "\(lines.count)"])
            await reject(commit: commit, diagnostics: lines)
            return
        }
        for (pin, reason) in result.lifted {
            await unpin(pin.app, message: "pin to \(String(pin.commit.prefix(12))) lifted: \(reason)", commit: commit)
        }
        await apply(desired)
    }

    func unpin(_ app: String, message: String, commit: CommitID) async {
        pins[app] = nil
        do {
            try await store.removePin(app: app)
        } catch {
            logger.error("Could not remove a pin", metadata: ["app": "\(app)", "error": "\(error)"])
        }
        logger.notice("Pin lifted", metadata: ["app": "\(app)", "reason": "\(message)"])
        await journal(JournalEntry(app: AppName(app), event: .unpinned, commit: commit.hex, message: message))
    }

    /// `capstan rollback APP [REV]`: pins `app` to `revision` (a commit where it converged, per its history), or by
    /// default to the newest converged commit whose manifest of the app differs from HEAD's; `clear` lifts the pin.
    /// HEAD is then applied again with the pin.
    public func rollback(_ app: String, revision: String?, clear: Bool) async throws -> AppControlReply {
        let name = try requireKnown(app)
        guard let loader, let head = headCommit else {
            throw CapstanError(.unavailable, "the reconciler has not read git yet; try again in a moment")
        }
        let suspended = machine.suspended.contains(name)
        if clear {
            guard pins[app] != nil else {
                return AppControlReply(app: app, suspended: suspended, pinned: nil, message: "\(app) is not pinned; it follows \(head.short)")
            }
            await unpin(app, message: "pin lifted by capstan rollback --clear; back to \(head.short)", commit: head)
            await load(commit: head)
            return AppControlReply(app: app, suspended: suspended, pinned: nil, message: "\(app) follows HEAD (\(head.short)) again")
        }
        let converged = try await store.history(app: app, limit: store.historyRetention)
            .filter { $0.event == .converged }.map(\.commit)
        var seen = Set<String>()
        let commits = converged.filter { seen.insert($0).inserted }
        let target: CommitID
        if let revision {
            let resolved: CommitID
            do {
                resolved = try await loader.source.resolve(revision)
            } catch {
                throw CapstanError(.notFound, "'\(revision)' is not a commit of \(loader.source.remote)")
            }
            guard commits.contains(resolved.short) else {
                let list = commits.prefix(10).joined(separator: ", ")
                throw CapstanError(
                    .failedPrecondition,
                    "\(app) never converged at \(resolved.short) (per its history); it converged at \(list.isEmpty ? "no commit yet" : list)")
            }
            target = resolved
        } else {
            let current = try await loader.workload(name, at: head)
            var found: CommitID?
            for short in commits {
                guard let commit = try? await loader.source.resolve(short) else { continue }
                if let workload = try? await loader.workload(name, at: commit), workload != current {
                    found = commit
                    break
                }
            }
            guard let found else {
                throw CapstanError(
                    .failedPrecondition,
                    "\(app) has no earlier converged commit with another manifest in its history; name one: capstan rollback \(app) REV")
            }
            target = found
        }
        guard (try? await loader.workload(name, at: target)) != nil else {
            throw CapstanError(.failedPrecondition, "the manifests at \(target.short) do not declare a valid \(app)")
        }
        let pin = AppPin(app: app, commit: target.hex, baseCommit: head.hex)
        try await store.setPin(pin)
        pins[app] = pin
        let message = "pinned to \(target.short) by capstan rollback (HEAD is \(head.short)); lifted when a newer commit changes \(app)'s manifest"
        logger.notice("App pinned", metadata: ["app": "\(app)", "commit": "\(target.short)"])
        await journal(JournalEntry(app: name, event: .pinned, commit: target.hex, message: message))
        await load(commit: head)
        return AppControlReply(app: app, suspended: suspended, pinned: target.hex, message: "\(app) \(message)")
    }
}
