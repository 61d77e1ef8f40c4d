import Testing

@testable import CapstanCore

private let small = Resources([.scalar("cpus", 4), .scalar("mem", 4096)])

private func offers(_ allocations: [Allocation], to framework: FrameworkID) -> [Allocation] {
    allocations.filter { $0.frameworkID == framework }
}

@Suite("DRFAllocator")
struct DRFAllocatorTests {
    @Test func splitsFourAgentsTwoEachBetweenTwoFrameworks() {
        var allocator = DRFAllocator()
        for index in 1...4 { allocator.addAgent(AgentID("agent-\(index)"), total: small) }
        allocator.addFramework("a", role: "*")
        allocator.addFramework("b", role: "*")
        let allocations = allocator.allocate(now: 0)
        #expect(allocations.count == 4)
        #expect(offers(allocations, to: "a").count == 2)
        #expect(offers(allocations, to: "b").count == 2)
        #expect(Set(allocations.map(\.agentID)).count == 4)
        #expect(allocator.dominantShare(of: "a") == 0.5)
        #expect(allocator.allocated(to: "b") == Resources([.scalar("cpus", 8), .scalar("mem", 8192)]))
        #expect(allocator.allocate(now: 1).isEmpty)
    }

    @Test func sharesOneAgentFairlyOverCycles() {
        var allocator = DRFAllocator()
        allocator.addAgent("agent", total: small)
        allocator.addFramework("a", role: "*")
        allocator.addFramework("b", role: "*")
        let first = allocator.allocate(now: 0)
        #expect(first.map(\.frameworkID) == ["a"])
        // `a` launches a task on half and hands the rest back.
        let used = Resources([.scalar("cpus", 2), .scalar("mem", 2048)])
        allocator.recover(small - used, from: "a", on: "agent", refuseSeconds: 0)
        let second = allocator.allocate(now: 1)
        #expect(second.map(\.frameworkID) == ["b"])
        #expect(second.first?.resources == Resources([.scalar("cpus", 2), .scalar("mem", 2048)]))
        #expect(allocator.dominantShare(of: "a") == 0.5)
        #expect(allocator.dominantShare(of: "b") == 0.5)
    }

    @Test func respectsRoleWeights() {
        var allocator = DRFAllocator(config: AllocatorConfig(roleWeights: ["heavy": 3]))
        for index in 1...8 { allocator.addAgent(AgentID("agent-\(index)"), total: small) }
        allocator.addFramework("h", role: "heavy")
        allocator.addFramework("l", role: "light")
        let allocations = allocator.allocate(now: 0)
        #expect(offers(allocations, to: "h").count == 6)
        #expect(offers(allocations, to: "l").count == 2)
    }

    @Test func ordersFrameworksWithinARoleByShare() {
        var allocator = DRFAllocator()
        allocator.addAgent("busy", total: small, allocated: ["a": Resources([.scalar("cpus", 3)])])
        allocator.addAgent("idle", total: small)
        allocator.deactivateAgent("busy")
        allocator.addFramework("a", role: "web")
        allocator.addFramework("b", role: "web")
        #expect(allocator.dominantShare(of: "a") == 0.375)
        let allocations = allocator.allocate(now: 0)
        #expect(allocations.map(\.frameworkID) == ["b"])
        #expect(allocations.first?.resources == small)
    }

    @Test func doesNotOfferAFilteredAgentUntilTheFilterExpires() {
        var allocator = DRFAllocator()
        allocator.addAgent("agent", total: small)
        allocator.addFramework("a", role: "*")
        let offer = allocator.allocate(now: 0)
        #expect(offer.count == 1)
        allocator.recover(small, from: "a", on: "agent", refuseSeconds: 5, now: 0)
        #expect(allocator.available(on: "agent") == small)
        #expect(allocator.allocate(now: 1).isEmpty)
        #expect(allocator.allocate(now: 4.9).isEmpty)
        #expect(allocator.allocate(now: 5).map(\.frameworkID) == ["a"])
    }

    @Test func offersAFilteredAgentToOtherFrameworks() {
        var allocator = DRFAllocator()
        allocator.addAgent("agent", total: small)
        allocator.addFramework("a", role: "*")
        allocator.addFramework("b", role: "*")
        #expect(allocator.allocate(now: 0).map(\.frameworkID) == ["a"])
        allocator.recover(small, from: "a", on: "agent", refuseSeconds: 5, now: 0)
        #expect(allocator.allocate(now: 1).map(\.frameworkID) == ["b"])
        allocator.recover(small, from: "b", on: "agent", now: 1)
        #expect(allocator.allocate(now: 2).map(\.frameworkID) == ["b"])
    }

    @Test func offersMoreThanAFilterCoversDespiteTheFilter() {
        var allocator = DRFAllocator()
        allocator.addAgent("agent", total: small)
        allocator.addFramework("a", role: "*")
        _ = allocator.allocate(now: 0)
        let half = Resources([.scalar("cpus", 2), .scalar("mem", 2048)])
        allocator.recover(half, from: "a", on: "agent", refuseSeconds: 60, now: 0)
        #expect(allocator.allocate(now: 1).isEmpty)
        // The task on the other half finishes: the agent now has more than the filter covers.
        allocator.recover(half, from: "a", on: "agent", now: 2)
        #expect(allocator.allocate(now: 3).first?.resources == small)
    }

    @Test func suppressedFrameworksGetNothingUntilRevived() {
        var allocator = DRFAllocator()
        allocator.addAgent("agent", total: small)
        allocator.addFramework("a", role: "*")
        allocator.suppress("a")
        #expect(allocator.allocate(now: 0).isEmpty)
        allocator.revive("a")
        #expect(allocator.allocate(now: 1).map(\.frameworkID) == ["a"])
    }

    @Test func reviveClearsFilters() {
        var allocator = DRFAllocator()
        allocator.addAgent("agent", total: small)
        allocator.addFramework("a", role: "*")
        _ = allocator.allocate(now: 0)
        allocator.recover(small, from: "a", on: "agent", refuseSeconds: 3600, now: 0)
        #expect(allocator.allocate(now: 1).isEmpty)
        allocator.revive("a")
        #expect(allocator.allocate(now: 2).count == 1)
    }

    @Test func neverOffersADeactivatedAgent() {
        var allocator = DRFAllocator()
        allocator.addAgent("up", total: small)
        allocator.addAgent("down", total: small)
        allocator.deactivateAgent("down")
        allocator.addFramework("a", role: "*")
        allocator.addFramework("b", role: "*")
        for cycle in 0..<5 {
            let allocations = allocator.allocate(now: Double(cycle))
            #expect(!allocations.contains { $0.agentID == "down" })
            for allocation in allocations {
                allocator.recover(allocation.resources, from: allocation.frameworkID, on: allocation.agentID)
            }
        }
        allocator.activateAgent("down")
        #expect(allocator.allocate(now: 9).contains { $0.agentID == "down" })
    }

    @Test func inactiveFrameworksKeepAllocationsButGetNoOffers() {
        var allocator = DRFAllocator()
        allocator.addAgent("one", total: small)
        allocator.addFramework("a", role: "*")
        _ = allocator.allocate(now: 0)
        allocator.deactivateFramework("a")
        allocator.addAgent("two", total: small)
        #expect(allocator.allocate(now: 1).isEmpty)
        #expect(allocator.allocated(to: "a") == small)
        allocator.activateFramework("a")
        #expect(allocator.allocate(now: 2).map(\.agentID) == ["two"])
    }

    @Test func returnsARemovedFrameworksAllocationsToThePool() {
        var allocator = DRFAllocator()
        allocator.addAgent("agent", total: small)
        allocator.addFramework("a", role: "*")
        _ = allocator.allocate(now: 0)
        #expect(allocator.available(on: "agent").isEmpty)
        allocator.removeFramework("a")
        #expect(allocator.available(on: "agent") == small)
        #expect(allocator.allocated(to: "a").isEmpty)
        allocator.addFramework("b", role: "*")
        #expect(allocator.allocate(now: 1).map(\.frameworkID) == ["b"])
    }

    @Test func countsResourcesReportedOnReregistration() {
        var allocator = DRFAllocator()
        allocator.addFramework("a", role: "*")
        allocator.addFramework("b", role: "*")
        let running = Resources([.scalar("cpus", 2), .scalar("mem", 1024)])
        allocator.addAgent("agent", total: small, allocated: ["a": running])
        #expect(allocator.available(on: "agent") == small - running)
        #expect(allocator.dominantShare(of: "a") == 0.5)
        let allocations = allocator.allocate(now: 0)
        #expect(allocations == [Allocation(frameworkID: "b", agentID: "agent", resources: small - running)])
    }

    @Test func countsReportedResourcesOfAFrameworkThatReregistersLater() {
        var allocator = DRFAllocator()
        allocator.addAgent("agent", total: small, allocated: ["late": Resources([.scalar("cpus", 1)])])
        #expect(allocator.available(on: "agent").cpus == 3)
        allocator.addFramework("late", role: "*")
        #expect(allocator.dominantShare(of: "late") == 0.25)
        #expect(allocator.allocated(to: "late") == Resources([.scalar("cpus", 1)]))
    }

    @Test func offersReservedResourcesOnlyToTheirRole() {
        var allocator = DRFAllocator()
        let total = Resources([.scalar("cpus", 2), .scalar("mem", 1024), .scalar("cpus", 1, role: "web")])
        allocator.addAgent("agent", total: total)
        allocator.addFramework("batch", role: "batch")
        allocator.addFramework("web", role: "web")
        let allocations = allocator.allocate(now: 0)
        #expect(offers(allocations, to: "batch").first?.resources == total.unreserved)
        #expect(offers(allocations, to: "web").first?.resources == total.reserved(for: "web"))
        #expect(allocator.available(on: "agent").isEmpty)
    }

    @Test func skipsAgentsWithLessThanTheMinimumAvailable() {
        var allocator = DRFAllocator()
        let crumbs = Resources([.scalar("cpus", 0.005), .scalar("mem", 16), .scalar("disk", 100)])
        allocator.addAgent("crumbs", total: crumbs)
        allocator.addAgent("mem-only", total: Resources([.scalar("mem", 32)]))
        allocator.addFramework("a", role: "*")
        #expect(allocator.allocate(now: 0).map(\.agentID) == ["mem-only"])
    }

    @Test func leavesExcludedResourcesOutOfTheDominantShare() {
        let held = Resources([.scalar("cpus", 1), .scalar("gpus", 4)])
        let total = Resources([.scalar("cpus", 4), .scalar("gpus", 4)])
        var fair = DRFAllocator(config: AllocatorConfig(fairnessExcludeResourceNames: ["gpus"]))
        fair.addFramework("a", role: "*")
        fair.addAgent("agent", total: total, allocated: ["a": held])
        var plain = DRFAllocator()
        plain.addFramework("a", role: "*")
        plain.addAgent("agent", total: total, allocated: ["a": held])
        #expect(fair.dominantShare(of: "a") == 0.25)
        #expect(plain.dominantShare(of: "a") == 1)
    }

    @Test func recoversOnlyWhatTheFrameworkHeld() {
        var allocator = DRFAllocator()
        allocator.addAgent("agent", total: small)
        allocator.addFramework("a", role: "*")
        _ = allocator.allocate(now: 0)
        allocator.recover(small + small, from: "a", on: "agent")
        allocator.recover(small, from: "a", on: "agent")
        #expect(allocator.available(on: "agent") == small)
        #expect(allocator.dominantShare(of: "a") == 0)
    }

    @Test func removingAnAgentDropsItsAllocationsAndTotal() throws {
        var allocator = DRFAllocator()
        allocator.addAgent("one", total: small)
        allocator.addAgent("two", total: small)
        allocator.addFramework("a", role: "*")
        allocator.addFramework("b", role: "*")
        let allocations = allocator.allocate(now: 0)
        let agentOfA = try #require(offers(allocations, to: "a").first?.agentID)
        allocator.removeAgent(agentOfA)
        #expect(allocator.agentCount == 1)
        #expect(allocator.allocated(to: "a").isEmpty)
        #expect(allocator.dominantShare(of: "b") == 1)
        #expect(allocator.available(on: agentOfA).isEmpty)
        #expect(allocator.allocate(now: 1).isEmpty)
    }

    @Test func replaysTheSameAllocationsFromTheSameSeed() {
        func run() -> [Allocation] {
            var allocator = DRFAllocator(config: AllocatorConfig(seed: 42))
            for index in 0..<50 { allocator.addAgent(AgentID("agent-\(index)"), total: small) }
            for index in 0..<7 { allocator.addFramework(FrameworkID("fw-\(index)"), role: "r\(index % 3)") }
            return allocator.allocate(now: 0)
        }
        let first = run()
        #expect(first.count == 50)
        #expect(first == run())
    }

    @Test func conservesResourcesThroughRandomEvents() {
        var random = SeededGenerator(seed: 7)
        var allocator = DRFAllocator()
        let total = Resources([
            .scalar("cpus", 4), .scalar("mem", 4096), .scalar("cpus", 1, role: "r1"),
            .ranges("ports", [ValueRange(begin: 1000, end: 1099)]),
        ])
        let agentIDs = (0..<6).map { AgentID("agent-\($0)") }
        let frameworkIDs = (0..<4).map { FrameworkID("fw-\($0)") }
        for agent in agentIDs { allocator.addAgent(agent, total: total) }
        for (index, framework) in frameworkIDs.enumerated() {
            allocator.addFramework(framework, role: "r\(index % 2)")
        }
        var offered: [Allocation] = []
        var offerCount = 0
        for step in 0..<300 {
            let now = Double(step)
            switch random.next(below: 6) {
            case 0, 1:
                let allocations = allocator.allocate(now: now)
                offerCount += allocations.count
                offered += allocations
            case 2 where !offered.isEmpty:
                // Keep a third of an offer, return the rest (ports split too).
                let offer = offered.remove(at: random.next(below: offered.count))
                let kept = Resources([.scalar("cpus", offer.resources.cpus / 3), .scalar("mem", 100)])
                allocator.recover(
                    offer.resources - kept, from: offer.frameworkID, on: offer.agentID,
                    refuseSeconds: Double(random.next(below: 3)), now: now)
            case 3:
                let framework = frameworkIDs[random.next(below: frameworkIDs.count)]
                allocator.removeFramework(framework)
                offered.removeAll { $0.frameworkID == framework }
                allocator.addFramework(framework, role: "r\(random.next(below: 2))")
            case 4:
                let agent = agentIDs[random.next(below: agentIDs.count)]
                let held = allocator.allocations(on: agent)
                allocator.addAgent(agent, total: total, allocated: held)
            default:
                let framework = frameworkIDs[random.next(below: frameworkIDs.count)]
                allocator.revive(framework)
            }
            var clusterCPUs = 0.0
            for agent in agentIDs {
                let held = allocator.allocations(on: agent).values.reduce(Resources(), +)
                #expect(held + allocator.available(on: agent) == total, "step \(step), \(agent)")
                clusterCPUs += allocator.total(on: agent).cpus
            }
            for framework in frameworkIDs {
                let cpuShare = allocator.allocated(to: framework).cpus / clusterCPUs
                #expect(allocator.dominantShare(of: framework) >= cpuShare - 1e-9)
            }
        }
        #expect(offerCount > 50)
    }
}
