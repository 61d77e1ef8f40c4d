/// What git says should run: the apps and jobs read at one commit.
public struct DesiredState: Sendable, Hashable {
    /// The commit the manifests were read at (full or short hex).
    public var commit: String
    /// The workloads, in any order (names are unique within a valid repository).
    public var workloads: [Workload]

    public init(commit: String, workloads: [Workload]) {
        self.commit = commit
        self.workloads = workloads
    }

    /// The `capstan.commit` label value: the first 12 hex digits of ``commit``.
    public var commitLabel: String { String(commit.prefix(12)) }

    /// The workload named `name`, if any.
    public func workload(named name: String) -> Workload? { workloads.first { $0.name == name } }
}
