import CapstanContainerizer
import Testing

@Suite("capstan-init location")
struct InitLocationTests {
    @Test func looksBesideTheExecutableThenInLibexec() {
        let candidates = LinuxLauncher.initCandidates(executable: "/opt/capstan/bin/capstan", environment: [:])
        #expect(candidates == ["/opt/capstan/bin/capstan-init", "/opt/capstan/libexec/capstan/capstan-init"])
    }

    @Test func capstanInitVariableWins() {
        #expect(LinuxLauncher.initCandidates(executable: "/x/capstan", environment: ["CAPSTAN_INIT": "/y/init"]) == ["/y/init"])
    }

    @Test func theMessageNamesEveryPlaceAndTheFix() {
        let message = LinuxLauncher.missingInitMessage(looked: ["/a/capstan-init", "/b/capstan-init"])
        #expect(message.contains("'/a/capstan-init' or '/b/capstan-init'"))
        #expect(message.contains("scripts/install.sh"))
    }
}
