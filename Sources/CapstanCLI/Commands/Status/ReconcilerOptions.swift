import ArgumentParser
import CapstanCore
import CapstanReconciler
import Foundation

/// Where the reconciler's API is: `--master` (whose framework `capstan-reconciler` names it) or `--reconciler`, each
/// defaulting to `CAPSTAN_MASTER` / `CAPSTAN_RECONCILER`, with the master's credentials and TLS.
struct ReconcilerEndpoint: ParsableArguments {
    @Option(
        name: .customLong("master"),
        help: "The master (HOST:PORT, several comma-separated, or etcd://HOST:PORT/PREFIX: the leader is asked) whose 'capstan-reconciler' framework's webui_url is the reconciler's API (default: $CAPSTAN_MASTER, else 127.0.0.1:5050).")
    var masterFlag: String?

    @Option(
        name: .customLong("reconciler"),
        help: "The reconciler's API URL (e.g. http://127.0.0.1:5052); skips asking the master (default: $CAPSTAN_RECONCILER).")
    var reconcilerFlag: String?

    @OptionGroup(title: "Master credentials") var credentials: ClientCredentialFlags
    @OptionGroup(title: "TLS") var tls: TLSFlags

    /// `--master`, else `CAPSTAN_MASTER`, else the local default.
    var master: String { masterFlag ?? Self.environment("CAPSTAN_MASTER") ?? "127.0.0.1:5050" }
    /// `--reconciler`, else `CAPSTAN_RECONCILER`.
    var reconciler: String? { reconcilerFlag ?? Self.environment("CAPSTAN_RECONCILER") }

    /// Where `master` came from, for messages.
    var masterSource: String { masterFlag != nil || Self.environment("CAPSTAN_MASTER") == nil ? "--master" : "CAPSTAN_MASTER" }

    /// A non-empty environment variable.
    static func environment(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }

    /// A client of the reconciler's API: `--reconciler` as given, else the URL the master knows.
    func client(timeout: Duration) async throws -> ReconcilerClient {
        let poster = try ReconcilerClient.poster(timeout: timeout, authorization: try credentials.authorization(), tls: try tls.client())
        if let reconciler { return ReconcilerClient(baseURL: reconciler, poster: poster) }
        return try await ReconcilerClient.discover(master: try await MasterLeader.resolve(master, flag: masterSource, tls: try tls.client()), poster: poster)
    }
}

/// The reconciler's address, `--output` and `--timeout` (per request): the options of `capstan status`, `history` and
/// `app`.
struct ReconcilerOptions: ParsableArguments {
    @OptionGroup var endpoint: ReconcilerEndpoint

    @Option(help: "Output format: text or json.")
    var output: ReconcilerOutputFormat = .text

    @Option(help: "How long to wait for the master and the reconciler (e.g. 5s, 500ms).")
    var timeout: String = "5s"

    var master: String { endpoint.master }
    var credentials: ClientCredentialFlags { endpoint.credentials }
    var tls: TLSFlags { endpoint.tls }

    /// A client of the reconciler's API: `--reconciler` as given, else the URL the master knows.
    func client() async throws -> ReconcilerClient {
        try await endpoint.client(timeout: try FlagParsing.duration(timeout, flag: "--timeout"))
    }
}

enum ReconcilerOutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

extension ReconcilerOutputFormat {
    /// Writes `value` as pretty JSON (ISO-8601 dates, sorted keys) or as the given text.
    func write(_ value: some Encodable, text: () -> String) throws {
        switch self {
        case .json:
            var data = try ReconcilerJSON.encode(value, pretty: true)
            data.append(UInt8(ascii: "\n"))
            FileHandle.standardOutput.write(data)
        case .text:
            FileHandle.standardOutput.write(Data(text().utf8))
        }
    }
}

extension ReconcilerOptions {
    /// Prints `capstan NAME: error` to standard error and exits 1 for anything but an `ExitCode` or a flag error.
    static func reportingErrors(of name: String, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as ExitCode {
            throw error
        } catch let error as ValidationError {
            throw error
        } catch {
            FileHandle.standardError.write(Data("capstan \(name): \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
