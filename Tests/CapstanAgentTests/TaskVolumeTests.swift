import CapstanAPI
@testable import CapstanAgent
import CapstanContainerizer
import Foundation
import Testing

@Suite("A task's container.volumes, checked at the edge")
struct TaskVolumeTests {
    static func refusal(_ volumes: [Volume], policy: HostPathPolicy = .none) -> String {
        do {
            let mapped = try Agent.containerVolumes(ContainerInfo(type: .mesos, volumes: volumes), prefix: "task.container", policy: policy)
            return "accepted \(mapped)"
        } catch {
            return error.message
        }
    }

    @Test("Host paths (the source and Mesos 1.0's top-level host_path) and SELF sandbox paths become the containerizer's volumes, modes kept")
    func mapped() throws {
        let policy = try HostPathPolicy(allowedRoots: ["/usr"])
        let volumes = try Agent.containerVolumes(
            ContainerInfo(type: .mesos, volumes: [
                Volume(mode: .ro, containerPath: "/lib-ro", hostPath: "/usr/lib"),
                Volume(mode: .rw, containerPath: "bin", source: .init(type: .hostPath, hostPath: .init(path: "/usr/bin"))),
                Volume(mode: .rw, containerPath: "scratch", source: .init(type: .sandboxPath, sandboxPath: .init(path: "tmp"))),
                Volume(mode: .ro, containerPath: "/db", source: .init(type: .dockerVolume, dockerVolume: .init(
                    driver: "rexray", name: "pg", driverOptions: Parameters(parameter: [Parameter(key: "size", value: "5")])))),
            ]),
            prefix: "task.container", policy: policy)
        #expect(volumes == [
            ContainerVolume(source: .hostPath("/usr/lib"), containerPath: "/lib-ro", readOnly: true),
            ContainerVolume(source: .hostPath("/usr/bin"), containerPath: "bin", readOnly: false),
            ContainerVolume(source: .sandboxPath("tmp"), containerPath: "scratch", readOnly: false),
            ContainerVolume(source: .dockerVolume(driver: "rexray", name: "pg", options: ["size": "5"]), containerPath: "/db", readOnly: true),
        ])
    }

    @Test("What this agent does not do is refused by field, not ignored")
    func refused() {
        #expect(Self.refusal([Volume(mode: .rw, containerPath: "")]) == "task.container.volumes[0].container_path is empty")
        #expect(Self.refusal([Volume(mode: .rw, containerPath: "x")]) == "task.container.volumes[0] names neither host_path nor a source")
        #expect(Self.refusal([Volume(mode: .rw, containerPath: "x", source: .init(type: .dockerVolume, dockerVolume: .init(name: "v")))])
            == "task.container.volumes[0].source.docker_volume.driver is missing: name the volume plugin")
        #expect(Self.refusal([Volume(mode: .rw, containerPath: "x", source: .init(type: .secret))])
            == "task.container.volumes[0].source.type SECRET is not supported by this agent")
        #expect(Self.refusal([Volume(mode: .rw, containerPath: "x", source: .init(type: .sandboxPath, sandboxPath: .init(type: .parent, path: "p")))])
            .contains("sandbox_path.type PARENT is not supported"))
        #expect(Self.refusal([Volume(mode: .rw, containerPath: "x", source: .init(type: .hostPath, hostPath: .init(path: "/usr", mountPropagation: .init(mode: .bidirectional))))])
            .contains("BIDIRECTIONAL is not supported"))
        #expect(Self.refusal([Volume(mode: .rw, containerPath: "x", source: .init(type: .hostPath))]) == "task.container.volumes[0].source.host_path.path is missing")
    }
}
