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
