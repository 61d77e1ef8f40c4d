import ArgumentParser

/// The `capstan` command tree.
public struct CapstanCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "capstan",
        abstract: "A GitOps cluster manager: a Mesos-compatible master and agent in one Swift binary.",
        discussion: """
            Run everything on one machine with `capstan up` (master, agent and the GitOps reconciler on Manifests/), \
            or a cluster with `capstan master` on one machine, `capstan agent --master HOST:PORT` on each worker and \
            `capstan reconcile --master HOST:PORT --repo URL` next to them. Check a change in CI with `capstan diff`.

            Frameworks talk to the master through the Mesos v1 HTTP API (POST /api/v1/scheduler); operators \
            use POST /api/v1 on the master and on agents. Try: capstan up, then \
            curl -s -X POST localhost:5050/api/v1 -H 'Content-Type: application/json' -d '{"type":"GET_AGENTS"}'
            """,
        version: CapstanVersion.description,
        subcommands: [Up.self, MasterCommand.self, AgentCommand.self, ReconcileCommand.self, Validate.self, DiffCommand.self, Version.self, Bench.self, ImageCommand.self, ContainerCommand.self, StatusCommand.self, HistoryCommand.self, LogsCommand.self, AppCommand.self, WaitCommand.self, SyncCommand.self, SuspendCommand.self, ResumeCommand.self, RollbackCommand.self, CompletionCommand.self, TokenCommand.self])

    public init() {}
}

/// Capstan's own release and the Mesos API release it speaks.
enum CapstanVersion {
    static let release = "0.1.0"
    static let mesosAPI = "1.0.0"
    static var description: String { "capstan \(release) (Mesos v1 HTTP API \(mesosAPI))" }
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print Capstan's version and the Mesos API version it implements.")

    func run() {
        print(CapstanVersion.description)
    }
}

/// The entry point the `capstan` executable calls.
public enum Application {
    public static func main() async {
        await CapstanCommand.main()
    }
}
