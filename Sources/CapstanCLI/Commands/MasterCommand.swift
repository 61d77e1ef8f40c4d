import ArgumentParser
import CapstanCore
import CapstanMaster
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// Options that configure a master; shared by `capstan master` and `capstan up`.
struct MasterOptions: ParsableArguments {
    @Option(help: "Seconds between agent heartbeats before one counts as missed (Mesos: agent_ping_timeout).")
    var agentPingTimeout: String = "15secs"

    @Option(help: "Missed heartbeats after which an agent is marked unreachable.")
    var maxAgentPingTimeouts: Int = 5

    @Option(help: "Time between full allocation cycles.")
    var allocationInterval: String = "1secs"

    @Option(help: "Interval of HEARTBEAT events on scheduler and operator streams.")
    var heartbeatInterval: String = "15secs"

    @Option(help: "DRF role weights, e.g. \"web=2,batch=1\".")
    var weights: String?

    @Option(help: "Rescind offers not answered within this time (e.g. 30secs); never by default.")
    var offerTimeout: String?

    func configuration(listen: HostPort, workDir: String) throws -> MasterConfiguration {
        guard maxAgentPingTimeouts > 0 else { throw ValidationError("--max-agent-ping-timeouts must be at least 1") }
        return MasterConfiguration(
            listen: listen, workDir: workDir, hostname: ProcessInfo.processInfo.hostName,
            agentPingTimeout: try FlagParsing.duration(agentPingTimeout, flag: "--agent-ping-timeout"),
            maxAgentPingTimeouts: maxAgentPingTimeouts,
            allocationInterval: try FlagParsing.duration(allocationInterval, flag: "--allocation-interval"),
            heartbeatInterval: try FlagParsing.duration(heartbeatInterval, flag: "--heartbeat-interval"),
            roleWeights: try FlagParsing.weights(weights),
            offerTimeout: try offerTimeout.map { try FlagParsing.duration($0, flag: "--offer-timeout") })
    }
}

struct MasterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "master",
        abstract: "Run a master: the Mesos v1 scheduler and operator APIs, the agent registry and the DRF allocator.")

    @Option(help: "Address the HTTP API listens on.")
    var listen: String = "127.0.0.1:5050"

    @Option(help: "Directory for the master's state.")
    var workDir: String = ".capstan/master"

    @OptionGroup var master: MasterOptions
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        _ = try logging.bootstrap()
        let logger = logging.logger("capstan.master")
        try FileManager.default.createDirectory(atPath: workDir, withIntermediateDirectories: true)
        let config = try master.configuration(listen: try FlagParsing.hostPort(listen, flag: "--listen"), workDir: workDir)
        let service = MasterService(configuration: config, logger: logger) { address in
            Console.line("capstan master listening on http://\(address) (scheduler API: /api/v1/scheduler, operator API: /api/v1)")
        }
        let group = ServiceGroup(
            configuration: .init(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
