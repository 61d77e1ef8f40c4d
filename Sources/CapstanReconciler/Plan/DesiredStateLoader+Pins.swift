import CapstanCore
import Foundation

/// The desired state at one commit with pinned apps read at their pins: what the reconciler deploys and `capstan diff`
/// plans, from the same loader.
public struct PinnedLoad: Sendable {
    public var loaded: LoadedManifests
    /// Nil when the commit's manifests are invalid.
    public var desiredState: DesiredState?
    /// Pins that still hold at this commit (their app's manifest read at the pin).
    public var applied: [AppPin]
    /// Pins that no longer hold, each with why: a newer commit changed the app's manifest, or the pin cannot be read.
    public var lifted: [(pin: AppPin, reason: String)]
}

extension DesiredStateLoader {
    /// Loads `commit`, then reads each pinned app's manifest at its pin instead. A pin holds while the app's manifest
    /// at `commit` equals its manifest at the pin's base commit (HEAD when it was pinned); once a newer commit changes it
    /// (or removes the app), or the pinned manifest cannot be read, the pin is listed as lifted and HEAD's manifest is used.
    public func load(commit: CommitID, pins: [AppPin]) async throws -> PinnedLoad {
        let loaded = try await load(commit: commit)
        guard var state = loaded.desiredState, !pins.isEmpty else {
            return PinnedLoad(loaded: loaded, desiredState: loaded.desiredState, applied: [], lifted: [])
        }
        var applied: [AppPin] = []
        var lifted: [(pin: AppPin, reason: String)] = []
        var workloads = state.workloads
        for pin in pins.sorted(by: { $0.app < $1.app }) {
            let name = AppName(pin.app)
            guard let index = workloads.firstIndex(where: { $0.name == name }) else {
                lifted.append((pin, "\(pin.app) is no longer in git at \(commit.short)"))
                continue
            }
            if pin.baseCommit != commit.hex {
                let base = try? await workload(name, at: CommitID(hex: pin.baseCommit))
                if base != workloads[index] {
                    lifted.append((pin, "commit \(commit.short) changed the manifest of \(pin.app)"))
                    continue
                }
            }
            guard let pinned = try? await workload(name, at: CommitID(hex: pin.commit)) else {
                lifted.append((pin, "the manifest of \(pin.app) at \(String(pin.commit.prefix(12))) cannot be read"))
                continue
            }
            workloads[index] = pinned
            state.appCommits[name] = CommitID(hex: pin.commit)
            applied.append(pin)
        }
        if !applied.isEmpty { state.workloads = workloads }
        return PinnedLoad(loaded: loaded, desiredState: state, applied: applied, lifted: lifted)
    }

    /// `name`'s manifest at `commit`; nil when the commit's manifests are invalid or do not declare it.
    public func workload(_ name: AppName, at commit: CommitID) async throws -> Workload? {
        try await load(commit: commit).desiredState?.workload(named: name)
    }
}
