/// What git says should run: the apps and jobs read at one commit.
public struct DesiredState: Sendable, Hashable {
    /// The commit the manifests were read at.
    public var commit: CommitID
    /// The workloads, in any order (names are unique within a valid repository). Changing them forgets the
    /// template labels given with them.
    public var workloads: [Workload] { didSet { knownLabels = [:] } }
    /// Template labels computed when the workloads were decoded, by name; a workload without one is hashed here.
    private var knownLabels: [AppName: String]
    /// Apps whose manifest was read at another commit than ``commit`` (pinned by `capstan rollback`), by name.
    public var appCommits: [AppName: CommitID] = [:]

    /// The commit `name`'s manifest was read at: its pin, else ``commit``.
    public func commit(of name: AppName) -> CommitID { appCommits[name] ?? commit }

    public init(commit: CommitID, workloads: [Workload]) {
        self.commit = commit
        self.workloads = workloads
        self.knownLabels = [:]
    }

    /// With the workloads' template labels, by name, as their decoder computed them (``ManifestSet/templateLabels``),
    /// so planning does not hash every workload again.
    public init(commit: CommitID, workloads: [Workload], templateLabels: [AppName: String]) {
        self.commit = commit
        self.workloads = workloads
        self.knownLabels = templateLabels
    }

    /// The `capstan.commit` label value: the first 12 hex digits of ``commit``.
    public var commitLabel: String { commit.short }

    /// The workload named `name`, if any.
    public func workload(named name: AppName) -> Workload? { workloads.first { $0.name == name } }

    /// `workload`'s ``Workload/templateLabel`` (one of this state's workloads): the label its decoder computed,
    /// or hashed now.
    public func templateLabel(of workload: Workload) -> String {
        knownLabels[workload.name] ?? workload.templateLabel
    }

    /// Equal commits and workloads (the label cache is not part of the value).
    public static func == (lhs: DesiredState, rhs: DesiredState) -> Bool {
        lhs.commit == rhs.commit && lhs.workloads == rhs.workloads && lhs.appCommits == rhs.appCommits
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(commit)
        hasher.combine(workloads)
        hasher.combine(appCommits)
    }
}
