import CapstanCore
import Testing

@Suite("Plan fit: CDI devices")
struct PlanDeviceFitTests {
    typealias F = PlanFixtures

    func fit(_ workload: Workload, agents: [AgentCapacity]) -> PlacementFit? {
        Planner.plan(desired: DesiredState(commit: "abc", workloads: [workload]), actual: ClusterSnapshot(tasks: [], agents: agents))
            .items.first { $0.name == workload.name }?.fit
    }

    @Test func anAppThatAsksForADeviceGoesOnlyWhereTheAgentDefinesIt() throws {
        var app = F.app("infer", instances: 2)
        app.spec.devices = [try CDIDeviceName(parsing: "vendor.example/gpu=0")]
        #expect(fit(app, agents: [F.agent("a0"), F.agent("a1")]) == .willNotFit(placed: 0, needed: 2, reason: "no agent has CDI device vendor.example/gpu=0"))
        let equipped = F.agent("a1", attributes: [AgentAttribute.cdiDevices: "vendor.example/gpu=0,vendor.example/gpu=1"])
        #expect(fit(app, agents: [F.agent("a0"), equipped]) == .fits, "devices are not used up: both instances fit on a1")
        app.spec.devices.append(try CDIDeviceName(parsing: "other.example/net=a"))
        let other = F.agent("a2", attributes: [AgentAttribute.cdiDevices: "other.example/net=a"])
        #expect(fit(app, agents: [equipped, other])
            == .willNotFit(placed: 0, needed: 2, reason: "no agent has CDI devices other.example/net=a and vendor.example/gpu=0 together"))
    }
}
