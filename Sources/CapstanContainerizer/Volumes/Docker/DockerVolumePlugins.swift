import CapstanCore
import CapstanLinux
import Logging

/// The Docker volume plugins of this host, found and activated lazily, each once: the first use of a driver name
/// discovers its plugin (``DockerPluginDirectories``), calls `Plugin.Activate` and checks that it implements
/// `VolumeDriver`; later uses get the same ``DockerVolumeDriver``. Discovery and activation are retried while the
/// plugin cannot be found or reached, for ``DockerPluginRetry/window``; a failed activation is not remembered, so a
/// later use tries again.
public actor DockerVolumePlugins {
    public let directories: DockerPluginDirectories
    public let retry: DockerPluginRetry
    let transport: DockerPluginTransport
    let logger: Logger

    private var drivers: [DockerPluginName: DockerVolumeDriver] = [:]
    private var activating: [DockerPluginName: Task<DockerVolumeDriver, any Error>] = [:]

    /// - Parameters:
    ///   - callTimeout: the longest one call may take, connection and whole answer included.
    ///   - maxResponseBytes: the largest answer read from a plugin.
    public init(
        directories: DockerPluginDirectories = .standard, retry: DockerPluginRetry = .standard, callTimeout: Duration = .seconds(120),
        maxResponseBytes: Int = 1 << 20, logger: Logger = Logger(label: "capstan.agent.volumes.docker")
    ) {
        self.directories = directories
        self.retry = retry
        self.transport = DockerPluginTransport(timeout: callTimeout, maxResponseBytes: maxResponseBytes)
        self.logger = logger
    }

    /// The activated volume driver `name`.
    public func driver(_ name: DockerPluginName) async throws -> DockerVolumeDriver {
        if let driver = drivers[name] { return driver }
        let task: Task<DockerVolumeDriver, any Error>
        if let running = activating[name] {
            task = running
        } else {
            let (directories, retry, transport, logger) = (directories, retry, transport, logger)
            task = Task { try await Self.activate(name, directories: directories, retry: retry, transport: transport, logger: logger) }
            activating[name] = task
        }
        do {
            let driver = try await task.value
            activating[name] = nil
            drivers[name] = driver
            return driver
        } catch {
            activating[name] = nil
            throw error
        }
    }

    private struct Activation: Decodable { var Implements: [String]? }
    private struct Empty: Encodable {}

    private static func activate(
        _ name: DockerPluginName, directories: DockerPluginDirectories, retry: DockerPluginRetry, transport: DockerPluginTransport,
        logger: Logger
    ) async throws -> DockerVolumeDriver {
        let address = try await locate(name, directories: directories, retry: retry, logger: logger)
        let client = DockerPluginClient(name: name, address: address, transport: transport, retry: retry, logger: logger)
        let activation = try await client.call("Plugin.Activate", Empty(), as: Activation.self)
        let implements = activation.Implements ?? []
        guard implements.contains("VolumeDriver") else {
            throw CapstanError(
                .failedPrecondition,
                "Docker plugin '\(name)' at \(address) is not a volume driver: it implements \(implements.isEmpty ? "nothing" : implements.joined(separator: ", ")), not VolumeDriver"
            )
        }
        logger.info("Docker volume plugin '\(name)' activated at \(address)")
        return DockerVolumeDriver(plugin: client)
    }

    /// Looks for the plugin until it is found or the retry window is spent (a plugin started with the agent may
    /// create its socket a little later).
    private static func locate(
        _ name: DockerPluginName, directories: DockerPluginDirectories, retry: DockerPluginRetry, logger: Logger
    ) async throws -> DockerPluginAddress {
        let start = ContinuousClock.now
        var attempt = 0
        while true {
            if let address = try await Blocking.run({ () throws -> DockerPluginAddress? in try directories.locate(name) }) {
                return address
            }
            let delay = retry.delay(afterAttempt: attempt)
            guard ContinuousClock.now - start + delay <= retry.window else {
                throw CapstanError(
                    .notFound,
                    "Docker volume plugin '\(name)' was not found within \(retry.window): none of \(directories.searchedPaths(for: name).joined(separator: ", ")) exists"
                )
            }
            if attempt == 0 { logger.warning("Docker volume plugin '\(name)' not found yet; looking again for up to \(retry.window)") }
            attempt += 1
            try await Task.sleep(for: delay)
        }
    }
}
