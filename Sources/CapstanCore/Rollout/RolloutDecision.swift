/// What to do next for one app, given its desired template and instance count and the tasks it has:
/// how many tasks of the desired template to launch and which tasks to kill.
///
/// The rules (Marathon's upgrade strategy, stated as invariants):
/// - during an update, tasks (including those still being killed) never exceed `instances + maxSurge` through launches;
/// - a healthy task is killed only while the healthy count stays at or above `minHealthy`, so old tasks go
///   only after new ones are healthy; old tasks that are unhealthy or still pending can always go;
/// - scaling down (too many tasks of the desired template) kills the least useful first: pending, then
///   unhealthy, then the newest — scaling is not an update and is not held back by `minHealthy`.
public struct RolloutDecision: Sendable, Hashable {
    /// Tasks of the desired template to launch now.
    public var launch: Int
    /// Task IDs to kill now, in the order chosen.
    public var kill: [String]
    /// Every live task runs the desired template, `instances` of them, all healthy.
    public var converged: Bool
    /// Tasks of another template are still live.
    public var updating: Bool
    /// Why nothing can move even though the app is not converged (e.g. `maxSurge: 0` with `minHealthy: 100%`).
    public var stuck: String?

    public init(launch: Int = 0, kill: [String] = [], converged: Bool = false, updating: Bool = false, stuck: String? = nil) {
        self.launch = launch
        self.kill = kill
        self.converged = converged
        self.updating = updating
        self.stuck = stuck
    }

    /// Decides the next step. `minHealthy` and `maxSurge` are already resolved to counts.
    public static func decide(
        instances: Int, template: String, minHealthy: Int, maxSurge: Int, tasks: [RolloutTask]
    ) -> RolloutDecision {
        let live = tasks.filter { $0.phase != .killing }
        let current = live.filter { $0.template == template }
        let old = live.filter { $0.template != template }
        let minHealthy = max(0, min(minHealthy, instances))
        let ceiling = instances + max(0, maxSurge)

        var decision = RolloutDecision(updating: !old.isEmpty)
        var liveCount = live.count

        // Scale down the desired template's tasks beyond `instances`.
        if current.count > instances {
            let surplus = current.sorted(by: RolloutDecision.killFirst).prefix(current.count - instances)
            decision.kill += surplus.map(\.id)
            liveCount -= surplus.count
        }

        // Replace old tasks: unhealthy or pending ones may go at once; healthy ones only above minHealthy.
        if !old.isEmpty {
            var healthy = live.filter(\.healthy).count - live.filter { t in t.healthy && decision.kill.contains(t.id) }.count
            for task in old.sorted(by: RolloutDecision.killFirst) {
                if task.healthy {
                    guard healthy - 1 >= minHealthy else { continue }
                    healthy -= 1
                }
                decision.kill.append(task.id)
                liveCount -= 1
            }
        }

        // Launch desired-template tasks up to `instances`, never above the surge ceiling. Tasks still being
        // killed hold their resources until they are gone, so during an update they count against the ceiling.
        let missing = instances - min(current.count, instances)
        if missing > 0 {
            let room = old.isEmpty ? missing : max(0, ceiling - tasks.count)
            decision.launch = min(missing, room)
        }

        let healthyCurrent = current.filter(\.healthy).count
        decision.converged = old.isEmpty && current.count == instances && healthyCurrent == instances
        if !decision.converged, decision.launch == 0, decision.kill.isEmpty, !old.isEmpty,
           current.count < instances, liveCount >= ceiling, healthyCurrent == current.count {
            decision.stuck = "no room to surge: \(liveCount) live tasks at the limit of \(ceiling) (instances + maxSurge), and killing a healthy old task would drop below minHealthy \(minHealthy)"
        }
        return decision
    }

    /// Pending before running, unhealthy before healthy, newest first.
    static func killFirst(_ a: RolloutTask, _ b: RolloutTask) -> Bool {
        func rank(_ t: RolloutTask) -> Int { t.phase == .pending ? 0 : (t.healthy ? 2 : 1) }
        if rank(a) != rank(b) { return rank(a) < rank(b) }
        if a.launchOrder != b.launchOrder { return a.launchOrder > b.launchOrder }
        return a.id < b.id
    }
}
