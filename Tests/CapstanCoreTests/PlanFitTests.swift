import CapstanCore
import Testing

@Suite("Plan fit")
struct PlanFitTests {
    typealias F = PlanFixtures

    func fit(_ workload: Workload, tasks: [ObservedTask] = [], agents: [AgentCapacity], others: [Workload] = []) -> PlanItem {
        let plan = Planner.plan(
            desired: DesiredState(commit: "abc", workloads: [workload] + others),
            actual: ClusterSnapshot(tasks: tasks, agents: agents))
        return plan.items.first { $0.name == workload.name }!
    }

    @Test func createFitsWhenTheAgentsHaveRoom() {
        let item = fit(F.app("web", instances: 4, cpus: 1), agents: [F.agent("a0", cpus: 2), F.agent("a1", cpus: 2)])
        #expect(item.fit == .fits)
    }

    @Test func notEnoughCPUsNamesTheResource() {
        let item = fit(F.app("web", instances: 3, cpus: 4), agents: [F.agent("a0", cpus: 4), F.agent("a1", cpus: 2.5)])
        #expect(item.fit == .willNotFit(placed: 1, needed: 3, reason: "no agent has cpus 4 free (most on one agent: 2.5)"))
    }

    @Test func memoryGPUsAndDiskAreChecked() {
        #expect(fit(F.app("m", instances: 1, mem: 8192), agents: [F.agent("a0")]).fit
            == .willNotFit(placed: 0, needed: 1, reason: "no agent has mem 8192 free (most on one agent: 4096)"))
        var gpu = F.app("g", instances: 1)
        gpu.spec.resources.gpus = 1
        #expect(fit(gpu, agents: [F.agent("a0")]).fit == .willNotFit(placed: 0, needed: 1, reason: "no agent has gpus 1 free (most on one agent: 0)"))
        var disk = F.app("d", instances: 1)
        disk.spec.volumes = [VolumeSpec(path: "/data", source: .persistent(sizeMiB: 20_000))]
        #expect(fit(disk, agents: [F.agent("a0")]).fit == .willNotFit(placed: 0, needed: 1, reason: "no agent has disk 20000 free (most on one agent: 10000)"))
    }

    @Test func resourcesFreeOnlyTogetherAreReportedAsSuch() {
        let item = fit(F.app("web", instances: 1, cpus: 2, mem: 2048), agents: [F.agent("a0", cpus: 4, mem: 1024), F.agent("a1", cpus: 1, mem: 4096)])
        #expect(item.fit == .willNotFit(placed: 0, needed: 1, reason: "no agent has cpus 2, mem 2048 free together"))
    }

    @Test func portsAreTakenPerInstance() {
        var web = F.app("web", instances: 2)
        web.spec.network = NetworkSpec(name: NetworkSpec.host, ports: [PortSpec(name: "http", host: 8080)])
        #expect(fit(web, agents: [F.agent("a0", ports: 8080...8080)]).fit
            == .willNotFit(placed: 1, needed: 2, reason: "port 8080 is not free on the only agent"))
        #expect(fit(web, agents: [F.agent("a0", ports: 8080...8080), F.agent("a1", ports: 8000...8100)]).fit == .fits)
        var any = F.app("any", instances: 3)
        any.spec.network = NetworkSpec(name: NetworkSpec.bridge, ports: [PortSpec(name: "a", container: 80), PortSpec(name: "b", container: 81)])
        let builtIn = [AgentAttribute.cniNetworks: "capstan"]
        #expect(fit(any, agents: [F.agent("a0", ports: 31000...31004, attributes: builtIn)]).fit
            == .willNotFit(placed: 2, needed: 3, reason: "no agent has 2 free ports"))
        var cni = any
        cni.spec.network.name = "mynet"
        #expect(fit(cni, agents: [F.agent("a0", ports: nil, attributes: [AgentAttribute.cniNetworks: "capstan,mynet"])]).fit == .fits,
            "CNI networks need no agent port unless mapped")
    }

    @Test func networkedAppsGoOnlyWhereTheirNetworkIs() {
        var app = F.app("web", instances: 2)
        app.spec.network = NetworkSpec(name: "storage-net", ports: [PortSpec(name: "http", container: 8080)])
        let plain = F.agent("a0"), builtIn = F.agent("a1", attributes: [AgentAttribute.cniNetworks: "capstan"])
        #expect(fit(app, agents: [plain, builtIn]).fit == .willNotFit(placed: 0, needed: 2, reason: "no agent has network 'storage-net'"))
        let storage = F.agent("a2", attributes: [AgentAttribute.cniNetworks: "capstan,storage-net"])
        #expect(fit(app, agents: [plain, builtIn, storage]).fit == .fits, "both instances on the one agent with the network")
        var bridged = app
        bridged.spec.network.name = NetworkSpec.bridge
        #expect(fit(bridged, agents: [plain]).fit == .willNotFit(placed: 0, needed: 2, reason: "no agent has network 'capstan'"))
        #expect(fit(bridged, agents: [plain, builtIn]).fit == .fits, "bridge is the agents' built-in network")
        var both = app
        both.spec.network.additional = ["backups"]
        let storageOnly = F.agent("a3", attributes: [AgentAttribute.cniNetworks: "storage-net"])
        #expect(fit(both, agents: [storageOnly]).fit == .willNotFit(placed: 0, needed: 2, reason: "no agent has network 'backups'"))
        let split = [storageOnly, F.agent("a4", attributes: [AgentAttribute.cniNetworks: "backups"])]
        #expect(fit(both, agents: split).fit == .willNotFit(placed: 0, needed: 2, reason: "no agent has networks 'storage-net' and 'backups' together"))
        #expect(fit(both, agents: split + [F.agent("a5", attributes: [AgentAttribute.cniNetworks: "backups,storage-net"])]).fit == .fits)
        var hosted = app
        hosted.spec.network = NetworkSpec()
        #expect(fit(hosted, agents: [plain]).fit == .fits, "the host network needs none")
    }

    @Test func hostnameUniqueNeedsOneAgentPerInstance() {
        var web = F.app("web", instances: 3, cpus: 0.1)
        web.spec.constraints = [Constraint(attribute: "hostname", .unique)]
        #expect(fit(web, agents: [F.agent("a0"), F.agent("a1")]).fit
            == .willNotFit(placed: 2, needed: 3, reason: "constraint hostname unique is not met on any of 2 agents"))
        #expect(fit(web, agents: [F.agent("a0"), F.agent("a1"), F.agent("a2")]).fit == .fits)
    }

    @Test func scaleUpCountsTheAppsKeptTasksForUniqueness() {
        var three = F.app("web", instances: 3, cpus: 0.1)
        three.spec.constraints = [Constraint(attribute: "hostname", .unique)]
        var two = three
        two.spec.instances = 2
        let agents = [F.agent("a0"), F.agent("a1"), F.agent("a2")]
        // Two tasks on a0 and a1: the third instance can only go to a2.
        #expect(fit(three, tasks: F.tasks(two, 2, agents: 2), agents: agents).fit == .fits)
        #expect(fit(three, tasks: F.tasks(two, 2, agents: 2), agents: Array(agents.prefix(2))).fit
            == .willNotFit(placed: 0, needed: 1, reason: "constraint hostname unique is not met on any of 2 agents"))
    }

    @Test func attributeConstraintsFilterAgents() {
        var web = F.app("web", instances: 2, cpus: 0.1)
        web.spec.constraints = [Constraint(attribute: "zone", .equals("eu"))]
        let agents = [F.agent("a0", attributes: ["zone": "us"]), F.agent("a1", attributes: ["zone": "eu"]), F.agent("a2")]
        #expect(fit(web, agents: agents).fit == .fits, "two instances on the one eu agent")
        web.spec.constraints = [Constraint(attribute: "zone", .like("e.")), Constraint(attribute: "zone", .maxPer(1))]
        #expect(fit(web, agents: agents).fit
            == .willNotFit(placed: 1, needed: 2, reason: "constraint zone like e. is not met on any of 3 agents"))
    }

    @Test func freedResourcesOfDeletesAndReplacementsAreCounted() {
        let old = F.app("old", instances: 2, cpus: 1)
        let new = F.app("new", instances: 2, cpus: 1)
        let agents = [F.agent("a0", cpus: 0)]
        #expect(fit(new, tasks: F.tasks(old, 2), agents: agents).fit == .fits, "old's tasks are deleted; their cpus are free")

        let before = F.app("web", instances: 2, env: ["V": "1"], cpus: 1), after = F.app("web", instances: 2, env: ["V": "2"], cpus: 1)
        #expect(fit(after, tasks: F.tasks(before, 2), agents: agents).fit == .fits)
    }

    @Test func itemsDoNotCountTheSameFreeSpaceTwice() {
        let a = F.app("a", instances: 1, cpus: 3), b = F.app("b", instances: 1, cpus: 3)
        let plan = Planner.plan(
            desired: DesiredState(commit: "abc", workloads: [b, a]),
            actual: ClusterSnapshot(tasks: [], agents: [F.agent("a0", cpus: 4)]))
        #expect(plan.items.map(\.fit) == [.fits, .willNotFit(placed: 0, needed: 1, reason: "no agent has cpus 3 free (most on one agent: 1)")])
        #expect(plan.willNotFit.map(\.name) == ["b"])
    }

    @Test func noAgentsMeansNothingFits() {
        #expect(fit(F.app("web", instances: 1), agents: []).fit == .willNotFit(placed: 0, needed: 1, reason: "no agents"))
    }
}

@Suite("ConstraintMatcher")
struct ConstraintMatcherTests {
    @Test func matchesPerOfferWithUsedValues() {
        let matcher = ConstraintMatcher([
            Constraint(attribute: "hostname", .unique), Constraint(attribute: "rack", .maxPer(2)),
            Constraint(attribute: "zone", .like("eu-[0-9]+")),
        ])
        var used = ConstraintUsage()
        let attrs = ["rack": "r1", "zone": "eu-1"]
        #expect(matcher.violation(hostname: "h1", attributes: attrs, used: used) == nil)
        matcher.record(hostname: "h1", attributes: attrs, in: &used)
        #expect(used.count(of: "h1", for: "hostname") == 1)
        #expect(used.count(of: "r1", for: "rack") == 1)
        #expect(used.count(of: "eu-1", for: "zone") == 0, "like constraints need no usage")
        #expect(matcher.violation(hostname: "h1", attributes: attrs, used: used) == Constraint(attribute: "hostname", .unique))
        #expect(matcher.matches(hostname: "h2", attributes: attrs, used: used))
        matcher.record(hostname: "h2", attributes: attrs, in: &used)
        #expect(matcher.violation(hostname: "h3", attributes: attrs, used: used) == Constraint(attribute: "rack", .maxPer(2)))
        used.remove("r1", for: "rack")
        #expect(matcher.matches(hostname: "h3", attributes: attrs, used: used))
    }

    @Test func likeMatchesTheWholeValue() {
        let matcher = ConstraintMatcher([Constraint(attribute: "zone", .like("eu"))])
        #expect(matcher.matches(hostname: "h", attributes: ["zone": "eu"], used: ConstraintUsage()))
        #expect(!matcher.matches(hostname: "h", attributes: ["zone": "eu-1"], used: ConstraintUsage()))
    }

    @Test func anAgentWithoutTheAttributeMatchesNoConstraintOnIt() {
        for op in [Constraint.Operator.unique, .equals("x"), .like(".*"), .maxPer(3)] {
            let matcher = ConstraintMatcher([Constraint(attribute: "zone", op)])
            #expect(!matcher.matches(hostname: "h", attributes: [:], used: ConstraintUsage()), "\(op)")
        }
    }

    @Test func equalsComparesExactly() {
        let matcher = ConstraintMatcher([Constraint(attribute: "hostname", .equals("h1"))])
        #expect(matcher.matches(hostname: "h1", attributes: [:], used: ConstraintUsage()))
        #expect(!matcher.matches(hostname: "h10", attributes: [:], used: ConstraintUsage()))
        #expect(Constraint(attribute: "hostname", .equals("h1")).description == "hostname equals h1")
    }
}
