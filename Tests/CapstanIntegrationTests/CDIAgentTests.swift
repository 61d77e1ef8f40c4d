import CapstanAPI
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    /// An agent reads CDI specs at start: the devices of the good ones are advertised as `cdi_devices`, a malformed
    /// spec is logged with its file and field, and `capstan diff` places an app asking for a device accordingly.
    @Suite("CDI specs at the agent")
    struct CDIAgentTests {
        @Test("The agent advertises the devices of its good CDI specs, logs a malformed one with its file, and diff places by device")
        func agentAdvertisesDevices() async throws {
            try await TestCluster().run { cluster in
                let specs = cluster.scratch + "/cdi"
                try FileManager.default.createDirectory(atPath: specs, withIntermediateDirectories: true)
                try """
                    cdiVersion: 0.6.0
                    kind: vendor.example/dev
                    devices:
                      - name: null0
                        containerEdits:
                          deviceNodes: [{path: /dev/null}]
                    """.write(toFile: specs + "/good.yaml", atomically: true, encoding: .utf8)
                try #"{"cdiVersion": "0.6.0", "kind": "vendor.example/broken", "devices": [{"name": "x", "containerEdits": {"deviceNodes": [{}]}}]}"#
                    .write(toFile: specs + "/broken.json", atomically: true, encoding: .utf8)
                try await cluster.startMaster()
                let agent = try await cluster.startAgent(resources: "cpus:1;mem:256;disk:128", extraArguments: ["--cdi-spec-dirs", specs])
                let agents = try await OperatorClient(cluster.master).call(.getAgents).getAgents?.agents ?? []
                let attribute = agents.first?.agentInfo.attributes.first { $0.name == AgentAttribute.cdiDevices }
                #expect(attribute?.text?.value == "vendor.example/dev=null0", "\(String(describing: attribute))")
                try await eventually("the agent logged the malformed spec") {
                    agent.process.log.contains(specs + "/broken.json") && agent.process.log.contains("deviceNodes[0].path")
                }

                // The one plan: an app asking for the advertised device fits; one asking for another will not.
                let repo = cluster.scratch + "/repo"
                try FileManager.default.createDirectory(atPath: repo, withIntermediateDirectories: true)
                try await ValidateCommandTests.git(repo, "init", "-q", "-b", "main")
                let app = GitOpsFixture.app("dev", instances: 1, extra: "\n  devices: [vendor.example/dev=null0]")
                let missing = GitOpsFixture.app("gpu", instances: 1, extra: "\n  devices: [vendor.example/gpu=0]")
                try app.write(toFile: repo + "/dev.yaml", atomically: true, encoding: .utf8)
                try missing.write(toFile: repo + "/gpu.yaml", atomically: true, encoding: .utf8)
                try await ValidateCommandTests.git(repo, "add", ".")
                try await ValidateCommandTests.git(repo, "commit", "-q", "-m", "devices")
                let plan = try await EndToEnd.DiffCommandTests.run([
                    CapstanBinary.path, "diff", "--repo", repo, "--against", "live", "--master", cluster.master.description, "--output", "json",
                ])
                #expect(plan.status == 2, "\(plan.stdout) \(plan.stderr)")
                #expect(plan.stdout.contains("no agent has CDI device vendor.example/gpu=0"), "\(plan.stdout)")
                #expect(!plan.stdout.contains("no agent has CDI device vendor.example/dev=null0"), "\(plan.stdout)")
            }
        }
    }
}
