import CapstanAPI
import CapstanCore
import Testing

@testable import CapstanReconciler

/// How a workload's `network` becomes the task's `container.network_infos`.
@Suite struct TaskInfoNetworkTests {
    static func workload(_ network: NetworkSpec, check: HealthCheckSpec.Check? = nil) -> Workload {
        var spec = WorkloadSpec(command: ["/usr/bin/python3", "-m", "http.server", "8080"], network: network)
        if let check { spec.health = HealthCheckSpec(check: check) }
        return Workload(kind: .app, name: "web", spec: spec)
    }

    @Test func aCNINetworkIsNamedWithItsMappedPortsAndTheCheckProbesTheContainerPort() {
        let network = NetworkSpec(name: "storage-net", ports: [
            PortSpec(name: "http", container: 8080, host: 31005), PortSpec(name: "admin", container: 9090),
        ])
        let builder = TaskInfoBuilder(workload: Self.workload(network, check: .http(port: .name("admin"), path: "/ready")), commit: "0123456789abcdef0123456789abcdef01234567")
        let task = builder.taskInfo(agent: AgentID("a0"), ports: [31005])
        let infos = task.container?.networkInfos ?? []
        #expect(infos.map(\.name) == ["storage-net"])
        #expect(infos.first?.portMappings == [NetworkInfo.PortMapping(hostPort: 31005, containerPort: 8080, protocol: "tcp")], "only the port with a host port is mapped")
        #expect(task.container?.mesos == nil, "no image: a command task on the network")
        #expect(task.healthCheck?.http?.port == 9090, "the check goes to the container port, inside the task's network namespace")
    }

    @Test func bridgeIsTheBuiltInNetworkAndMapsEveryPort() {
        let network = NetworkSpec(name: NetworkSpec.bridge, ports: [PortSpec(name: "http", container: 8080), PortSpec(name: "metrics", container: 9100, host: 31050)])
        let task = TaskInfoBuilder(workload: Self.workload(network), commit: "0123456789abcdef0123456789abcdef01234567")
            .taskInfo(agent: AgentID("a0"), ports: [31050, 31007])
        #expect(task.container?.networkInfos.map(\.name) == [NetworkSpec.builtInCNINetwork])
        #expect(task.container?.networkInfos.first?.portMappings == [
            NetworkInfo.PortMapping(hostPort: 31007, containerPort: 8080, protocol: "tcp"),
            NetworkInfo.PortMapping(hostPort: 31050, containerPort: 9100, protocol: "tcp"),
        ])
    }

    @Test func furtherNetworksAreJoinedAfterTheFirstWithoutPortMappings() {
        let network = NetworkSpec(name: "frontend", ports: [PortSpec(name: "http", container: 8080, host: 31005)], additional: ["storage-net"])
        let task = TaskInfoBuilder(workload: Self.workload(network), commit: "0123456789abcdef0123456789abcdef01234567")
            .taskInfo(agent: AgentID("a0"), ports: [31005])
        #expect(task.container?.networkInfos.map(\.name) == ["frontend", "storage-net"])
        #expect(task.container?.networkInfos.map(\.portMappings.count) == [1, 0])
    }

    @Test func theHostNetworkNeedsNoContainer() {
        let network = NetworkSpec(ports: [PortSpec(name: "http", host: 31001)])
        let task = TaskInfoBuilder(workload: Self.workload(network, check: .tcp(port: .name("http"))), commit: "0123456789abcdef0123456789abcdef01234567")
            .taskInfo(agent: AgentID("a0"), ports: [31001])
        #expect(task.container == nil)
        #expect(task.healthCheck?.tcp?.port == 31001)
    }
}

/// How a workload's `volumes` become the task's `container.volumes`.
@Suite struct TaskInfoVolumeTests {
    @Test func hostAndDockerVolumesBecomeMesosVolumesWithTheirModes() {
        var spec = WorkloadSpec(command: ["/bin/true"])
        spec.volumes = [
            VolumeSpec(path: "/srv/config", source: .host("/etc/capstan-app"), readOnly: true),
            VolumeSpec(path: "/data", source: .docker(driver: "rexray", name: "pg")),
            VolumeSpec(path: "/scratch", source: .persistent(sizeMiB: 64)),
        ]
        spec.image = "busybox:1"
        let id = AppVolumeID(app: "db", slot: 2, path: "/scratch")
        let volume = Resource(
            name: "disk", value: .scalar(64), role: "capstan", reservation: ResourceReservation(principal: nil),
            volume: PersistentVolume(id: id.persistenceID, containerPath: "scratch"))
        let task = TaskInfoBuilder(workload: Workload(kind: .app, name: "db", spec: spec), commit: "0123456789abcdef0123456789abcdef01234567")
            .taskInfo(agent: AgentID("a0"), ports: [], slot: 2, persistentVolumes: [volume])
        let volumes = task.container?.volumes ?? []
        #expect(volumes.count == 3)
        #expect(volumes.first?.mode == .ro && volumes.first?.containerPath == "/srv/config" && volumes.first?.source?.hostPath?.path == "/etc/capstan-app")
        #expect(volumes[1].mode == .rw && volumes[1].source?.type == .dockerVolume && volumes[1].source?.dockerVolume?.driver == "rexray"
            && volumes[1].source?.dockerVolume?.name == "pg")
        #expect(volumes.last?.containerPath == "/scratch" && volumes.last?.source?.type == .sandboxPath && volumes.last?.source?.sandboxPath?.path == "scratch",
            "the persistent volume, mounted in the sandbox, is mapped to its absolute path in the image")
        let disk = task.resources.filter { $0.name == "disk" }
        #expect(disk.count == 1 && disk[0].role == "capstan" && disk[0].disk?.persistence?.id == "capstan.db.2.scratch" && disk[0].scalar?.value == 64,
            "the task names its slot's volume, and asks for no other disk: \(disk)")
        #expect(task.labels?.labels.contains { $0.key == TaskLabel.slot && $0.value == "2" } == true)
    }
}
