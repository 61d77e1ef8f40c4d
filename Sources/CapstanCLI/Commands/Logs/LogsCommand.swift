import ArgumentParser
import CapstanAPIClient
import CapstanCore
import CapstanReconciler
import Foundation

/// `capstan logs TASK|APP`: a task's stdout (or stderr) read through its agent's files API, or every instance of an
/// app with each line prefixed by its task ID.
struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Print a task's stdout or stderr, or those of every instance of an app, through the agents' files API.",
        discussion: """
            Finds the task (by task ID) or the app's tasks (by their capstan.app label; its running instances, or \
            all its ended ones when none runs) through the master's operator API, then reads each task's sandbox \
            file from its agent with READ_FILE. An app's lines are prefixed with the task ID. With -f, follows \
            the files until every task has ended and its file stops growing (or until Ctrl-C).

            --master defaults to $CAPSTAN_MASTER, else 127.0.0.1:5050. Exit codes: 0 when the logs were printed; \
            1 when the task or app is unknown or the master or an agent cannot be reached.
            """)

    @Argument(help: "A task ID, or the name of an app the reconciler runs.")
    var name: String

    @Flag(name: [.customShort("f"), .long], help: "Keep printing new lines until the tasks end.")
    var follow = false

    @Flag(help: "Read stderr instead of stdout.")
    var stderr = false

    @Option(help: "Print only the last N lines of each file first.")
    var tail: Int?

    @Option(help: "The master (HOST:PORT, several comma-separated, or etcd://HOST:PORT/PREFIX: the leader is asked); default $CAPSTAN_MASTER, else 127.0.0.1:5050.")
    var master: String?

    @Option(help: "Output format: text, or json (one object per line: task_id, agent_id, stream, line).")
    var output: ReconcilerOutputFormat = .text

    @Option(help: "How long to wait for each answer from the master and the agents (e.g. 5s).")
    var timeout: String = "5s"

    @Option(help: ArgumentHelp("How often -f polls for new lines (e.g. 500ms).", visibility: .hidden))
    var interval: String = "500ms"

    @OptionGroup(title: "Credentials") var credentials: ClientCredentialFlags
    @OptionGroup(title: "TLS") var tls: TLSFlags

    func validate() throws {
        if let tail, tail < 0 { throw ValidationError("--tail must be 0 or more") }
    }

    func run() async throws {
        // --master, else $CAPSTAN_MASTER, else the local master (as `status`, `app` and `wait` find it).
        let fromEnvironment = master == nil ? ReconcilerEndpoint.environment("CAPSTAN_MASTER") : nil
        let masterAddress = try await MasterLeader.resolve(
            master ?? fromEnvironment ?? "127.0.0.1:5050", flag: fromEnvironment == nil ? "--master" : "CAPSTAN_MASTER", tls: try tls.client())
        let pollInterval = try FlagParsing.duration(interval, flag: "--interval")
        let poster = try ReconcilerClient.poster(
            timeout: try FlagParsing.duration(timeout, flag: "--timeout"), authorization: try credentials.authorization(),
            tls: try tls.client())
        try await ReconcilerOptions.reportingErrors(of: "logs") {
            let source = TaskLogSource(master: masterAddress, poster: poster)
            var printer = LogPrinter(
                source: source, name: name, stderr: stderr, tail: tail, json: output == .json, interval: pollInterval)
            try await printer.run(follow: follow)
        }
    }
}
