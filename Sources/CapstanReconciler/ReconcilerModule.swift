/// The reconciler's module: desired state read from git, observed state read from the master, the plan
/// between them (computed in CapstanCore), and the framework that applies it.
public enum ReconcilerModule {
    /// The framework name the reconciler subscribes with.
    public static let frameworkName = "capstan-reconciler"
}
