/// Settings of the ``DRFAllocator``, after the Mesos master flags `--weights` and
/// `--fair_sharing_excluded_resource_names`.
public struct AllocatorConfig: Sendable {
    /// Weight per role; a role's dominant share is divided by its weight when roles are sorted,
    /// so a role of weight 2 is entitled to twice the share. Missing roles weigh 1.
    public var roleWeights: [String: Double]
    /// Resource names left out of dominant-share computation (Mesos excludes e.g. `gpus` this way).
    public var fairnessExcludeResourceNames: Set<String>
    /// An offer must hold at least this many CPUs, or ``minimumAllocatableMem``, to be made.
    public var minimumAllocatableCPUs: Double
    /// An offer must hold at least this much memory (MB), or ``minimumAllocatableCPUs``, to be made.
    public var minimumAllocatableMem: Double
    /// Seeds the generator that shuffles the agent order of each cycle.
    public var seed: UInt64

    /// Creates a configuration; the minimums default to Mesos' `MIN_CPUS` (0.01) and `MIN_MEM` (32 MB).
    public init(
        roleWeights: [String: Double] = [:],
        fairnessExcludeResourceNames: Set<String> = [],
        minimumAllocatableCPUs: Double = 0.01,
        minimumAllocatableMem: Double = 32,
        seed: UInt64 = 0x5EED
    ) {
        self.roleWeights = roleWeights
        self.fairnessExcludeResourceNames = fairnessExcludeResourceNames
        self.minimumAllocatableCPUs = minimumAllocatableCPUs
        self.minimumAllocatableMem = minimumAllocatableMem
        self.seed = seed
    }

    /// The weight of `role`; non-positive or missing weights count as 1.
    func weight(of role: String) -> Double {
        guard let weight = roleWeights[role], weight > 0, weight.isFinite else { return 1 }
        return weight
    }
}

/// Resources on one agent that the allocator has set aside for one framework: the content of
/// an offer. They count as allocated to the framework until recovered.
public struct Allocation: Hashable, Sendable {
    /// The framework the resources are offered to.
    public var frameworkID: FrameworkID
    /// The agent holding the resources.
    public var agentID: AgentID
    /// What is offered.
    public var resources: Resources

    /// Creates an allocation.
    public init(frameworkID: FrameworkID, agentID: AgentID, resources: Resources) {
        self.frameworkID = frameworkID
        self.agentID = agentID
        self.resources = resources
    }
}
