import ArgumentParser
import CapstanCore
import CapstanReconciler
import Foundation

/// `capstan wait APP --healthy --timeout D`: for CI, after a push.
struct WaitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wait",
        abstract: "Wait until an app is Synced and healthy at git's HEAD (for CI after a push).",
        discussion: """
            Polls the reconciler until git's HEAD is applied and APP is Synced at it (every desired instance of the \
            desired spec running and healthy; a Job: finished). Exit codes: 0 when it is; 3 when the app Failed, the \
            HEAD commit was refused, or --timeout passed, with the reason on standard error; 1 on other errors \
            (reconciler unreachable, no such app at HEAD).
            """)

    @Argument(help: "The app's name (metadata.name in its manifest).")
    var app: String

    @Flag(help: "Wait for health (the only condition today; accepted for Argo CD's habit).")
    var healthy = false

    @Option(help: "How long to wait at most (e.g. 90s, 5m).")
    var timeout: String = "5m"

    @Option(help: "How often to ask the reconciler.")
    var interval: String = "500ms"

    @OptionGroup var endpoint: ReconcilerEndpoint

    static let notReadyExitCode: Int32 = 3

    func run() async throws {
        let deadline = ContinuousClock.now + (try FlagParsing.duration(timeout, flag: "--timeout"))
        let pause = try FlagParsing.duration(interval, flag: "--interval")
        var outcome: Result<String, WaitFailure> = .failure(WaitFailure(message: "not asked yet", exitCode: 1))
        try await ReconcilerOptions.reportingErrors(of: "wait") {
            let client = try await endpoint.client(timeout: .seconds(5))
            while true {
                let status = try await client.status()
                switch Self.judge(status, app: app) {
                case .ready(let text):
                    outcome = .success(text)
                    return
                case .failed(let failure):
                    outcome = .failure(failure)
                    return
                case .waiting(let why):
                    guard ContinuousClock.now < deadline else {
                        outcome = .failure(WaitFailure(message: "timed out after \(timeout): \(why)", exitCode: Self.notReadyExitCode))
                        return
                    }
                }
                try await Task.sleep(for: pause)
            }
        }
        switch outcome {
        case .success(let text):
            FileHandle.standardOutput.write(Data((text + "\n").utf8))
        case .failure(let failure):
            FileHandle.standardError.write(Data("capstan wait: \(failure.message)\n".utf8))
            throw ExitCode(failure.exitCode)
        }
    }

    struct WaitFailure: Error {
        var message: String
        var exitCode: Int32
    }

    enum Judgement {
        case ready(String)
        case waiting(String)
        case failed(WaitFailure)
    }

    /// Whether `app` is Synced and healthy at HEAD in `status`, waits, or will not get there by waiting.
    static func judge(_ status: ReconcilerStatus, app name: String) -> Judgement {
        guard let head = status.headCommit, status.appliedCommit == head else {
            if let error = status.error, status.headCommit != nil {
                return .failed(WaitFailure(message: "HEAD \(status.headCommit ?? "") is not applied: \(error)", exitCode: notReadyExitCode))
            }
            return .waiting("HEAD \(status.headCommit ?? "(not read yet)") is not applied yet")
        }
        guard let app = status.apps.first(where: { $0.name == name }) else {
            return .failed(WaitFailure(message: "no app named '\(name)' at HEAD \(head)", exitCode: 1))
        }
        let counts = "\(app.healthyInstances)/\(app.desiredInstances) healthy"
        switch app.phase {
        case .synced where app.desiredCommit == head:
            return .ready("\(name) is Synced and healthy at \(head) (\(counts))")
        case .failed:
            return .failed(WaitFailure(message: "\(name) Failed at \(app.desiredCommit ?? head): \(app.reason ?? "no reason given")", exitCode: notReadyExitCode))
        default:
            return .waiting("\(name) is \(app.phase.rawValue) at \(app.desiredCommit ?? "-") (\(counts))\(app.reason.map { ": \($0)" } ?? "")")
        }
    }
}

/// `capstan sync [APP]`: fetch git now instead of at the next poll.
struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Make the reconciler fetch git and apply it now (instead of at its next poll).",
        discussion: "Returns once asked; follow with `capstan wait APP` to wait for the result. Exits 0, or 1 on errors.")

    @Argument(help: "An app to show after the sync is asked (the reconciler always applies the whole commit).")
    var app: String?

    @OptionGroup var options: ReconcilerOptions

    func run() async throws {
        try await ReconcilerOptions.reportingErrors(of: "sync") {
            let client = try await options.client()
            try await client.sync()
            var line = "sync asked: the reconciler fetches git now"
            if let app { line += "; wait with: capstan wait \(app) --healthy" }
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }
    }
}

/// `capstan completion bash|zsh|fish`: the shell completion script.
struct CompletionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "completion", abstract: "Print the shell completion script (bash, zsh or fish).",
        discussion: "bash: source <(capstan completion bash); zsh: capstan completion zsh > \"${fpath[1]}/_capstan\"; fish: capstan completion fish | source")

    @Argument(help: "bash, zsh or fish.")
    var shell: String

    func run() throws {
        guard let kind = CompletionShell(rawValue: shell) else {
            throw ValidationError("'\(shell)' is not a shell completion is made for: bash, zsh or fish")
        }
        FileHandle.standardOutput.write(Data(CapstanCommand.completionScript(for: kind).utf8))
    }
}
