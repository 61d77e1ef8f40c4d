public import CapstanCore
import Foundation

/// The agent's `--isolation` (Mesos' `--isolation`): which isolators run. Without the flag an agent runs every
/// cgroup isolator this machine offers and `disk/du`, as before; with it, exactly the ones listed. Networks
/// (`network/cni`) and volumes are always on, configured by their own flags; their Mesos names are accepted in the
/// list so that a Mesos agent's flag works unchanged.
public struct IsolationSelection: Sendable, Hashable, CustomStringConvertible {
    /// Isolators the list chooses among, in the order the agent applies them.
    public static let selectable = ["cgroups/cpu", "cgroups/mem", "cgroups/pids", "disk/du", "disk/xfs", "gpu/nvidia", "cgroups/devices"]
    /// Isolators that run only when listed: they need something most machines lack (quota mounts, a GPU driver), or
    /// change what every container may do (`cgroups/devices`, which `gpu/nvidia` and CDI devices turn on anyway).
    static let optIn = ["disk/xfs", "gpu/nvidia", "cgroups/devices"]
    /// Mesos names of isolators Capstan always runs (configured by other flags): accepted, changing nothing.
    public static let alwaysOn = ["filesystem/linux", "network/cni", "docker/volume", "volume/sandbox_path", "volume/host_path", "volume/path"]

    /// The isolators listed (selectable ones only); nil: the flag was not given.
    public let names: [String]?

    /// No `--isolation`: every cgroup isolator available, and `disk/du` (not `disk/xfs` or `gpu/nvidia`).
    public static let `default` = IsolationSelection(names: nil)

    private init(names: [String]?) { self.names = names }

    /// Parses a comma-separated list.
    /// - Throws: `invalidArgument` naming `--isolation` when the list is empty, names an isolator Capstan does not
    ///   have (listing those it has), or names both disk isolators.
    public init(parsing text: String) throws(CapstanError) {
        let listed = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !listed.isEmpty else {
            throw CapstanError(.invalidArgument, "--isolation '\(text)' names no isolator; choose among \(Self.selectable.joined(separator: ","))")
        }
        var names: [String] = []
        for name in listed {
            if Self.alwaysOn.contains(name) { continue }
            guard Self.selectable.contains(name) else {
                throw CapstanError(
                    .invalidArgument,
                    "--isolation: unknown isolator '\(name)'; Capstan has \(Self.selectable.joined(separator: ", ")) (and always runs \(Self.alwaysOn.joined(separator: ", ")))")
            }
            if !names.contains(name) { names.append(name) }
        }
        if names.contains("disk/du") && names.contains("disk/xfs") {
            throw CapstanError(
                .invalidArgument,
                "--isolation names both disk/du and disk/xfs: choose one (disk/xfs limits and measures through project quotas, disk/du walks the sandbox)")
        }
        self.names = Self.selectable.filter { names.contains($0) }
    }

    /// Whether `isolator` runs.
    public func includes(_ isolator: String) -> Bool {
        names?.contains(isolator) ?? !Self.optIn.contains(isolator)
    }

    /// The disk isolator chosen: `disk/du`, `disk/xfs` or nil (none listed).
    public var disk: String? {
        ["disk/xfs", "disk/du"].first { includes($0) }
    }

    public var description: String { names?.joined(separator: ",") ?? "default" }
}
