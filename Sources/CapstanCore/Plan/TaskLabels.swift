/// The labels the reconciler puts on every task it launches. The actual state of an app is the set of
/// running tasks that carry its name; which spec and commit each one runs is read from these labels, so
/// defaults and key order in the manifests can never show up as drift.
public enum TaskLabel {
    /// The app's or job's `metadata.name`.
    public static let app = "capstan.app"
    /// ``Workload/templateLabel``: what a task runs. Tasks whose label differs from the desired one are replaced.
    public static let spec = "capstan.spec"
    /// The short commit (12 hex digits) the task's manifest was read at.
    public static let commit = "capstan.commit"
    /// The CDI devices the task asks for, comma-separated fully qualified names (`vendor.com/class=name`): the Mesos
    /// task JSON has no field for them, so they travel as a label, which the agent's launcher applies.
    public static let cdiDevices = "capstan.cdi.devices"
    /// `App` or `Job`.
    public static let kind = "capstan.kind"
    /// The instance slot (`0`, `1` …) of an app with persistent volumes: which slot's volumes the task mounts.
    public static let slot = "capstan.slot"
}

extension Workload {
    /// The spec fields that change how a single task runs. `instances`, `update`, `backoff` and `dependsOn` are
    /// orchestration: changing them scales or reconfigures the rollout but never restarts a running task.
    public static let orchestrationFields: Set<String> = ["instances", "update", "backoff", "dependsOn"]

    /// The canonical form without the orchestration fields: what one task runs.
    public var templateCanonical: CanonicalValue {
        guard case .object(var fields) = canonical, case .object(var spec)? = fields["spec"] else { return canonical }
        for field in Workload.orchestrationFields { spec.removeValue(forKey: field) }
        // A persistent volume marked `destroy: confirm` is mounted by no task: it is not part of what a task runs, so
        // marking a volume that no task mounts any more restarts nothing.
        if case .array(let volumes)? = spec["volumes"] {
            let mounted = volumes.filter { volume in
                guard case .object(let fields) = volume, case .object(let persistent)? = fields["persistent"] else { return true }
                return persistent["destroy"] == nil
            }
            spec["volumes"] = .array(mounted)
        }
        fields["spec"] = .object(spec)
        return .object(fields)
    }

    /// SHA-256 (hex) of ``templateCanonical``.
    public var templateHash: String { CanonicalSHA256.hex(templateCanonical.utf8) }

    /// The `capstan.spec` label value: the first 16 hex digits of ``templateHash``.
    public var templateLabel: String { String(templateHash.prefix(16)) }
}
