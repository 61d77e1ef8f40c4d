/// Whether the new instances of a plan item fit on the agents' free resources.
public enum PlacementFit: Sendable, Hashable {
    /// Every new instance found an agent with the resources and constraints it needs.
    case fits
    /// Only `placed` of `needed` new instances found room; `reason` names the resource or constraint
    /// that stopped the next one (`no agent has cpus 4 free (most on one agent: 2)`).
    case willNotFit(placed: Int, needed: Int, reason: String)
    /// The agents are not known (a plan against another git revision), so nothing was checked.
    case unchecked

    /// False only for ``willNotFit(placed:needed:reason:)``.
    public var fits: Bool {
        if case .willNotFit = self { return false }
        return true
    }
}
