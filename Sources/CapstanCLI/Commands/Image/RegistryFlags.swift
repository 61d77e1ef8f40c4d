import ArgumentParser
import CapstanImage
import Foundation

/// How to reach registries; shared by `capstan image pull`, `capstan agent` and `capstan up`.
struct RegistryFlags: ParsableArguments {
    @Option(name: .customLong("insecure-registry"), help: "A registry HOST[:PORT] to reach over plain HTTP (repeatable; a bare HOST covers every port).")
    var insecureRegistries: [String] = []

    @Option(
        name: [.customLong("registry-config"), .customLong("authfile")],
        help: "A Docker-style config.json to read registry credentials from (its \"auths\": base64 \"auth\" or \"username\"/\"password\").")
    var registryConfig: String?

    @Option(name: .customLong("registry-ca"), help: "A PEM file of CA certificates trusted for registries besides the system's (repeatable).")
    var registryCAs: [String] = []

    @OptionGroup var layerLimits: LayerLimitFlags

    /// The registry options the flags describe; named files must be readable.
    func options() throws -> RegistryOptions {
        for host in insecureRegistries where host.isEmpty || host.contains("/") {
            throw ValidationError("--insecure-registry '\(host)' is not HOST[:PORT]")
        }
        var options = RegistryOptions(insecureRegistries: Set(insecureRegistries))
        if let registryConfig {
            guard FileManager.default.isReadableFile(atPath: registryConfig) else {
                throw ValidationError("--registry-config \(registryConfig) is not a readable file")
            }
            options.authFiles = [absolute(registryConfig)]
        }
        for file in registryCAs where !FileManager.default.isReadableFile(atPath: file) {
            throw ValidationError("--registry-ca \(file) is not a readable file")
        }
        options.certificateAuthorities = registryCAs.map(absolute)
        return options
    }

    private func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }
}
