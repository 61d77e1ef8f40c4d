import CapstanContainerizer
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

@Suite("DockerPluginDiscovery")
struct DockerPluginDiscoveryTests {
    private func plugins(
        _ scratch: PluginScratch,
        retry: DockerPluginRetry = .init(window: .seconds(20), firstDelay: .milliseconds(50), maxDelay: .milliseconds(400))
    )
        -> DockerVolumePlugins
    {
        DockerVolumePlugins(directories: scratch.directories, retry: retry, callTimeout: .seconds(30))
    }

    @Test(TestVolumePlugin.requirement)
    func findsAndActivatesAPluginBySocket() async throws {
        try await PluginScratch.with { scratch in
            let plugin = try TestVolumePlugin(address: scratch.sockets + "/flat.sock", state: scratch.state("flat"))
            #expect(try scratch.directories.locate(DockerPluginName("flat")) == .unixSocket(path: scratch.sockets + "/flat.sock"))
            let driver = try await plugins(scratch).driver(DockerPluginName("flat"))
            #expect(driver.plugin.address == .unixSocket(path: scratch.sockets + "/flat.sock"))
            #expect(plugin.callNames() == ["Plugin.Activate"])
            #expect(plugin.calls().first?.accept == "application/vnd.docker.plugins.v1+json")
        }
    }

    @Test(TestVolumePlugin.requirement)
    func findsAPluginByItsNestedSocket() async throws {
        try await PluginScratch.with { scratch in
            try FileManager.default.createDirectory(atPath: scratch.sockets + "/nested", withIntermediateDirectories: true)
            let plugin = try TestVolumePlugin(address: scratch.sockets + "/nested/nested.sock", state: scratch.state("nested"))
            _ = try await plugins(scratch).driver(DockerPluginName("nested"))
            #expect(plugin.callNames() == ["Plugin.Activate"])
        }
    }

    @Test(TestVolumePlugin.requirement)
    func findsAPluginByASpecFileNamingItsSocket() async throws {
        try await PluginScratch.with { scratch in
            let socket = scratch.root + "/elsewhere.sock"
            let plugin = try TestVolumePlugin(address: socket, state: scratch.state("spec"))
            try scratch.write("unix://\(socket)\n", to: scratch.specs + "/speccy.spec")
            let driver = try await plugins(scratch).driver(DockerPluginName("speccy"))
            #expect(driver.plugin.address == .unixSocket(path: socket))
            #expect(plugin.callNames() == ["Plugin.Activate"])
        }
    }

    @Test(TestVolumePlugin.requirement)
    func findsAPluginByAJSONSpecInTheSecondSpecDirectory() async throws {
        try await PluginScratch.with { scratch in
            let socket = scratch.root + "/json.sock"
            let plugin = try TestVolumePlugin(address: socket, state: scratch.state("json"))
            try scratch.write(#"{"Name": "jason", "Addr": "unix://\#(socket)"}"#, to: scratch.root + "/usr/lib/docker/plugins/jason.json")
            _ = try await plugins(scratch).driver(DockerPluginName("jason"))
            #expect(plugin.callNames() == ["Plugin.Activate"])
        }
    }

    @Test(TestVolumePlugin.requirement)
    func reachesAPluginOnALoopbackHTTPAddressFromASpecFile() async throws {
        try await PluginScratch.with { scratch in
            let plugin = try TestVolumePlugin(address: "tcp:", state: scratch.state("tcp"))
            let port = try #require(plugin.port)
            try scratch.write("tcp://127.0.0.1:\(port)", to: scratch.specs + "/loop/loop.spec")
            let driver = try await plugins(scratch).driver(DockerPluginName("loop"))
            #expect(driver.plugin.address == .loopbackHTTP(host: "127.0.0.1", port: port))
            #expect(plugin.callNames() == ["Plugin.Activate"])
        }
    }

    @Test(TestVolumePlugin.requirement)
    func refusesAPluginThatIsNotAVolumeDriver() async throws {
        try await PluginScratch.with { scratch in
            let plugin = try TestVolumePlugin(
                address: scratch.sockets + "/net.sock", state: scratch.state("net"), implements: ["NetworkDriver"])
            let error = try await #require(throws: CapstanError.self) { try await plugins(scratch).driver(DockerPluginName("net")) }
            #expect(error.code == .failedPrecondition)
            #expect(error.message.contains("'net'") && error.message.contains("implements NetworkDriver, not VolumeDriver"))
            #expect(plugin.callNames() == ["Plugin.Activate"])
        }
    }

    @Test
    func refusesSpecsThatAreNotALocalPlainAddress() throws {
        for (text, code, words) in [
            ("http://10.0.0.7:8080", CapstanError.Code.permissionDenied, "not on the loopback interface"),
            ("tcp://example.com:80", .permissionDenied, "not on the loopback interface"),
            ("https://127.0.0.1:443", .unsupported, "uses TLS"),
            ("ftp://127.0.0.1:21", .unsupported, "only unix:// and loopback"),
            ("unix://relative.sock", .invalidArgument, "not an absolute path"),
            ("127.0.0.1:80", .invalidArgument, "not a plugin address"),
            ("http://127.0.0.1", .invalidArgument, "no port"),
            ("unix:///" + String(repeating: "x", count: 120), .invalidArgument, "at most 107"),
        ] {
            let error = #expect(throws: CapstanError.self, "\(text)") {
                try DockerPluginAddress.parse(text, source: "/etc/docker/plugins/p.spec")
            }
            #expect(error?.code == code, "\(text)")
            #expect(error?.message.contains(words) == true, "\(text): \(error?.message ?? "")")
            #expect(error?.message.contains("/etc/docker/plugins/p.spec") == true)
        }
        #expect(try DockerPluginAddress.parse(" http://localhost:9000/\n", source: "s") == .loopbackHTTP(host: "localhost", port: 9000))
        #expect(try DockerPluginAddress.parse("tcp://[::1]:9000", source: "s") == .loopbackHTTP(host: "::1", port: 9000))
        #expect(try DockerPluginAddress.parse("tcp://127.8.9.10:1", source: "s") == .loopbackHTTP(host: "127.8.9.10", port: 1))
    }

    @Test
    func refusesAJSONSpecWithTLS() throws {
        try withScratchDirectory { root in
            let directories = DockerPluginDirectories.under(root)
            try FileManager.default.createDirectory(atPath: directories.specs[0], withIntermediateDirectories: true)
            let path = directories.specs[0] + "/secure.json"
            try #"{"Name":"secure","Addr":"unix:///run/secure.sock","TLSConfig":{"InsecureSkipVerify":false,"CAFile":"/ca.pem"}}"#
                .write(toFile: path, atomically: true, encoding: .utf8)
            let error = #expect(throws: CapstanError.self) { try directories.locate(DockerPluginName("secure")) }
            #expect(error?.code == .unsupported)
            #expect(error?.message.contains("TLS") == true && error?.message.contains(path) == true)
            try #"{"Name":"secure","Addr":"unix:///run/secure.sock","TLSConfig":null}"#.write(
                toFile: path, atomically: true, encoding: .utf8)
            #expect(try directories.locate(DockerPluginName("secure")) == .unixSocket(path: "/run/secure.sock"))
        }
    }

    @Test
    func findsNothingWhereNoPluginIsAndSaysWhereItLooked() async throws {
        try await PluginScratch.with { scratch in
            let name = try DockerPluginName("ghost")
            #expect(try scratch.directories.locate(name) == nil)
            let plugins = plugins(
                scratch, retry: .init(window: .milliseconds(300), firstDelay: .milliseconds(50), maxDelay: .milliseconds(100)))
            let error = try await #require(throws: CapstanError.self) { try await plugins.driver(name) }
            #expect(error.code == .notFound)
            #expect(error.message.contains(scratch.sockets + "/ghost.sock") && error.message.contains(scratch.specs + "/ghost.json"))
        }
    }

    @Test
    func checksPluginNamesBeforeUsingThemInPaths() {
        for bad in ["", "../etc", "a/b", "..", "a..b", "nul\0x", ".hidden", "-dash", "sp ace", String(repeating: "p", count: 129)] {
            #expect(throws: CapstanError.self, "\(bad)") { try DockerPluginName(bad) }
        }
        for good in ["rexray", "local-persist", "convoy_1.2", "A9"] {
            #expect(throws: Never.self) { try DockerPluginName(good) }
        }
        #expect(throws: CapstanError.self) { try DockerVolumeName("") }
        #expect(throws: CapstanError.self) { try DockerVolumeName("bad\nname") }
        #expect(throws: Never.self) { try DockerVolumeName("pool/image") }
    }

    @Test
    func backsOffExponentiallyUpToItsCap() {
        let retry = DockerPluginRetry(window: .seconds(30), firstDelay: .seconds(1), maxDelay: .seconds(8))
        #expect(
            (0..<6).map { retry.delay(afterAttempt: $0) } == [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(8), .seconds(8)])
    }

    private func withScratchDirectory(_ body: (String) throws -> Void) throws {
        let root = "/tmp/cdv-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try body(root)
    }
}
