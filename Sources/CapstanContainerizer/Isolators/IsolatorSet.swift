import CapstanCore
public import Logging
import Glibc

/// A cgroup isolator whose hierarchy can be checked before any container uses it.
protocol CgroupIsolator: Isolator {
    /// Throws when containers' cgroups cannot be made in the isolator's hierarchy.
    func checkUsable() throws
}

/// The isolators a process can use on this machine (cgroups cpu, memory and pids), found once at start by
/// ``available(base:pidsMax:logger:)`` and applied to every container, with what is missing and why.
///
/// The agent, `capstan container run` and `capstan bench container` build their isolators here, so that an isolator
/// is never dropped silently: each one that cannot be used is named in ``unavailable`` and in one warning.
public struct IsolatorSet: Sendable {
    /// The isolators to apply, in order.
    public let isolators: [any Isolator]
    /// One entry per isolator that cannot be used: its name and why, e.g.
    /// `cgroups/mem: no memory cgroup hierarchy under '/sys/fs/cgroup'`.
    public let unavailable: [String]

    /// Creates a set from isolators at hand (tests, or a caller with isolators of its own).
    public init(isolators: [any Isolator], unavailable: [String] = []) {
        self.isolators = isolators
        self.unavailable = unavailable
    }

    /// The names of the isolators applied, e.g. `["cgroups/cpu", "cgroups/mem", "cgroups/pids"]`.
    public var names: [String] { isolators.map(\.name) }

    /// The names of every isolator this set knows, in order.
    static let all = ["cgroups/cpu", "cgroups/mem", "cgroups/pids"]

    /// The cgroup isolators usable here: each needs root, its controller's hierarchy under `base` (v1 or v2), and
    /// a writable `capstan` cgroup in it. Logs one warning naming every isolator left out and why.
    /// - Parameters:
    ///   - base: where cgroup hierarchies are mounted.
    ///   - pidsMax: `cgroups/pids`' limit for containers that name none; `nil`: no limit.
    ///   - logger: receives the warning.
    public static func available(base: String = "/sys/fs/cgroup", pidsMax: Int? = nil, logger: Logger) -> IsolatorSet {
        guard geteuid() == 0 else {
            let set = IsolatorSet(isolators: [], unavailable: all.map { "\($0): not running as root" })
            set.warn(logger)
            return set
        }
        let makers: [(String, () throws -> any CgroupIsolator)] = [
            ("cgroups/cpu", { try CgroupsCPUIsolator(base: base) }),
            ("cgroups/mem", { try CgroupsMemoryIsolator(base: base) }),
            ("cgroups/pids", { try CgroupsPIDsIsolator(base: base, defaultMax: pidsMax) }),
        ]
        var isolators: [any Isolator] = []
        var unavailable: [String] = []
        for (name, make) in makers {
            do {
                let isolator = try make()
                try isolator.checkUsable()
                isolators.append(isolator)
            } catch {
                unavailable.append("\(name): \((error as? CapstanError)?.message ?? "\(error)")")
            }
        }
        let set = IsolatorSet(isolators: isolators, unavailable: unavailable)
        set.warn(logger)
        return set
    }

    /// One warning naming what is missing, when something is.
    private func warn(_ logger: Logger) {
        guard !unavailable.isEmpty else { return }
        logger.warning(
            "Isolation is unavailable: containers run without \(unavailable.count == Self.all.count ? "any cgroup limits" : "some cgroup limits")",
            metadata: ["active": "\(names.isEmpty ? "none" : names.joined(separator: ","))", "missing": "\(unavailable.joined(separator: "; "))"])
    }
}
