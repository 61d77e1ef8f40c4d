import CapstanCore
import CapstanManifest
import Testing

@Suite struct NetworkNameTests {
    @Test func aNetworkNameThatCannotNameACNINetworkIsAnError() {
        let errors = diagnostics(header + "  network: {name: ../etc, ports: [{name: http, container: 80}]}\n")
        #expect(errors.count == 1)
        #expect(errors.first?.contains("spec.network.name") == true, "\(errors)")
        #expect(errors.first?.contains("'../etc' is not a network name") == true, "\(errors)")
        #expect(diagnostics(header + "  network: {name: storage-net.v2, ports: [{name: http, container: 80}]}\n").isEmpty)
    }
}

@Suite struct SeveralNetworksTests {
    @Test func aListNamesSeveralNetworksTheFirstCarryingThePorts() throws {
        let loaded = ManifestLoader.load([ManifestFile(path: "apps/web.yaml", text: header + "  network: {name: [frontend, storage-net], ports: [{name: http, container: 80}]}\n")])
        #expect(loaded.diagnostics.isEmpty, "\(loaded.diagnostics)")
        let network = try #require(loaded.workloads.first?.spec.network)
        #expect(network.name == "frontend" && network.additional == ["storage-net"])
        #expect(network.cniNetworks == ["frontend", "storage-net"])
    }

    @Test func badListsAreErrorsNamingTheItem() {
        let twice = diagnostics(header + "  network: {name: [a, a], ports: [{name: http, container: 80}]}\n")
        #expect(twice.contains { $0.contains("spec.network.name[1]") && $0.contains("network 'a' is named twice") }, "\(twice)")
        let host = diagnostics(header + "  network: {name: [frontend, host]}\n")
        #expect(host.contains { $0.contains("the host network cannot be joined together with other networks") }, "\(host)")
        let empty = diagnostics(header + "  network: {name: []}\n")
        #expect(empty.contains { $0.contains("name at least one network") }, "\(empty)")
    }

    @Test func oneNetworkKeepsItsTemplateHash() {
        var single = Workload(kind: .app, name: "web", spec: WorkloadSpec(command: ["/bin/true"], network: NetworkSpec(name: "frontend")))
        let before = single.templateLabel
        single.spec.network.additional = ["storage-net"]
        #expect(single.templateLabel != before, "a second network is a new template")
        single.spec.network.additional = []
        #expect(single.templateLabel == before)
    }
}
