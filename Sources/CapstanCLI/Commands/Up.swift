import ArgumentParser
import CapstanAgent
import CapstanCore
import CapstanMaster
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a master and an agent in one process on one work dir; Ctrl-C stops both and kills their tasks.")

    @Option(help: "Address the master's HTTP API listens on.")
    var listen: String = "127.0.0.1:5050"

    @Option(help: "Address the agent's HTTP API listens on.")
    var agentListen: String = "127.0.0.1:5051"

    @Option(help: "Directory for all state (master/ and agent/ below it).")
    var workDir: String = ".capstan"

    @OptionGroup var master: MasterOptions
    @OptionGroup var agent: AgentOptions
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        _ = try logging.bootstrap()
        let root = URL(fileURLWithPath: workDir).standardizedFileURL.path
        for sub in ["master", "agent"] {
            try FileManager.default.createDirectory(atPath: root + "/" + sub, withIntermediateDirectories: true)
        }
        let masterAddress = try FlagParsing.hostPort(listen, flag: "--listen")
        let masterConfig = try master.configuration(listen: masterAddress, workDir: root + "/master")
        let agentConfig = try agent.configuration(
            listen: try FlagParsing.hostPort(agentListen, flag: "--agent-listen"), master: masterAddress,
            workDir: root + "/agent")
        let masterService = MasterService(configuration: masterConfig, logger: logging.logger("capstan.master")) { address in
            Console.line("capstan master listening on http://\(address)  (scheduler API /api/v1/scheduler, operator API /api/v1)")
        }
        let agentService = AgentService(configuration: agentConfig, logger: logging.logger("capstan.agent")) { address in
            Console.line("capstan agent  listening on http://\(address)  (executor API /api/v1/executor, files /files/browse)")
            Console.line("work dir: \(root)   resources: \(agentConfig.resources)")
        }
        let logger = logging.logger("capstan")
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: masterService),
                    .init(service: agentService),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        Console.line("capstan stopped; all tasks were killed")
    }
}
