/// One task of an app as the rollout logic sees it: which template it runs and how far along it is.
public struct RolloutTask: Sendable, Hashable {
    public enum Phase: Sendable, Hashable {
        /// Launched, not yet running (staging, starting).
        case pending
        /// Running (healthy or not).
        case running
        /// A kill was sent; it is no longer counted as an instance.
        case killing
    }

    public var id: String
    /// The task's `capstan.spec` label.
    public var template: String
    public var phase: Phase
    /// Running and passing its health check (or running, when the app has no health check).
    public var healthy: Bool
    /// Orders tasks of one phase: newer tasks are killed first on scale-down.
    public var launchOrder: Int

    public init(id: String, template: String, phase: Phase, healthy: Bool, launchOrder: Int = 0) {
        self.id = id
        self.template = template
        self.phase = phase
        self.healthy = healthy && phase == .running
        self.launchOrder = launchOrder
    }
}
