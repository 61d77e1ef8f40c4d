import CapstanCore
import Testing

@Suite struct TemplateLabelTests {
    @Test func scalingDoesNotChangeTheTemplate() {
        var workload = Workload(kind: .app, name: "web", spec: WorkloadSpec(command: ["sleep", "60"], instances: 2))
        let before = workload.templateLabel
        workload.spec.instances = 5
        workload.spec.update.maxSurge = .count(3)
        #expect(workload.templateLabel == before)
        workload.spec.env["MODE"] = "prod"
        #expect(workload.templateLabel != before)
        #expect(workload.templateLabel.count == 16)
    }
}
