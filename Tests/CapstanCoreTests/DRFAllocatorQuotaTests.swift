import Testing

@testable import CapstanCore

private let agentSize = Resources([.scalar("cpus", 4), .scalar("mem", 4096)])

@Suite("DRFAllocator quota and weights")
struct DRFAllocatorQuotaTests {
    /// Two agents; framework `q` (role `quota`) holds one, the other is free and `b` (role `other`, share 0) is
    /// lower in DRF order than `q` (share 0.5).
    private func halfHeld() -> DRFAllocator {
        var allocator = DRFAllocator()
        allocator.addAgent("agent-1", total: agentSize, allocated: ["q": agentSize])
        allocator.addAgent("agent-2", total: agentSize)
        allocator.addFramework("q", role: "quota")
        allocator.addFramework("b", role: "other")
        return allocator
    }

    @Test func withoutQuotaTheLowerShareGetsTheFreeAgent() {
        var allocator = halfHeld()
        #expect(allocator.allocate(now: 0).map(\.frameworkID) == ["b"])
    }

    @Test func aRoleWithUnmetQuotaIsOfferedItsGuaranteeBeforeALowerShare() {
        var allocator = halfHeld()
        allocator.setQuota("quota", guarantee: Resources([.scalar("cpus", 8)]))
        let offers = allocator.allocate(now: 0)
        #expect(offers.map(\.frameworkID) == ["q"])
        #expect(offers.first?.resources == agentSize)
        #expect(allocator.allocated(to: "q") == agentSize + agentSize)
    }

    @Test func aMetQuotaSitsOutTheFairShareStage() {
        var allocator = halfHeld()
        allocator.setQuota("quota", guarantee: Resources([.scalar("cpus", 2)]))
        // The guarantee is already covered by agent-1: the free agent goes to the other role.
        #expect(allocator.allocate(now: 0).map(\.frameworkID) == ["b"])
    }

    @Test func unmetQuotaIsSetAsideFromOtherRoles() {
        var allocator = DRFAllocator()
        allocator.addAgent("agent", total: agentSize)
        allocator.addFramework("q", role: "quota")
        allocator.suppress("q")  // wants nothing right now: its guarantee must still be kept free
        allocator.addFramework("b", role: "other")
        allocator.setQuota("quota", guarantee: Resources([.scalar("cpus", 3)]))
        let offers = allocator.allocate(now: 0)
        #expect(offers.map(\.frameworkID) == ["b"])
        #expect(offers.first?.resources == Resources([.scalar("cpus", 1), .scalar("mem", 4096)]))

        // Once the quota is removed the rest is offered too.
        allocator.removeQuota("quota")
        #expect(allocator.allocate(now: 1).first?.resources == Resources([.scalar("cpus", 3)]))
    }

    @Test func roleWithQuotaAndNoFrameworksStillHoldsItsGuarantee() {
        var allocator = DRFAllocator()
        allocator.addAgent("agent-1", total: agentSize)
        allocator.addAgent("agent-2", total: agentSize)
        allocator.addFramework("b", role: "other")
        allocator.setQuota("empty", guarantee: Resources([.scalar("cpus", 4), .scalar("mem", 4096)]))
        let offered = allocator.allocate(now: 0).map(\.resources).reduce(Resources(), +)
        #expect(offered == agentSize)
        #expect(allocator.quotaGuarantees["empty"] == Resources([.scalar("cpus", 4), .scalar("mem", 4096)]))
    }

    @Test func updatingWeightsChangesWhoIsOfferedNext() {
        func setUp() -> DRFAllocator {
            var allocator = DRFAllocator()
            allocator.addAgent("held-a", total: agentSize, allocated: ["a": agentSize])
            allocator.addAgent("held-b", total: agentSize, allocated: ["b": agentSize])
            allocator.addAgent("free", total: agentSize)
            allocator.addFramework("a", role: "alpha")
            allocator.addFramework("b", role: "beta")
            return allocator
        }
        // Equal shares: the tie goes to the role named first.
        var equal = setUp()
        #expect(equal.allocate(now: 0).map(\.frameworkID) == ["a"])
        // Weight 2 halves beta's weighted share, so beta is offered the free agent.
        var weighted = setUp()
        weighted.updateWeights(["beta": 2])
        #expect(weighted.weight(of: "beta") == 2)
        #expect(weighted.roleWeights == ["beta": 2])
        #expect(weighted.allocate(now: 0).map(\.frameworkID) == ["b"])
    }
}
