import CapstanAPI
import CapstanCore
import Testing

@testable import CapstanReconciler

/// How a workload's `devices` reach the task: the Mesos task has no field for CDI names, so a label carries them.
@Suite struct TaskInfoDeviceTests {
    @Test func devicesTravelAsALabelAndATaskWithoutThemHasNone() throws {
        var spec = WorkloadSpec(command: ["/bin/true"])
        let plain = TaskInfoBuilder(workload: Workload(kind: .app, name: "web", spec: spec), commit: "0123456789abcdef0123456789abcdef01234567")
            .taskInfo(agent: AgentID("a0"), ports: [])
        #expect(plain.labels?.labels.contains { $0.key == TaskLabel.cdiDevices } == false)
        spec.devices = [try CDIDeviceName(parsing: "vendor.example/gpu=1"), try CDIDeviceName(parsing: "vendor.example/gpu=0")]
        let task = TaskInfoBuilder(workload: Workload(kind: .app, name: "web", spec: spec), commit: "0123456789abcdef0123456789abcdef01234567")
            .taskInfo(agent: AgentID("a0"), ports: [])
        #expect(task.labels?.labels.first { $0.key == TaskLabel.cdiDevices }?.value == "vendor.example/gpu=1,vendor.example/gpu=0")
    }
}
