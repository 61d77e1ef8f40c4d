import ArgumentParser
import CapstanCore
import CapstanReconciler
import Foundation

/// `--master` and `--reconciler`: where `capstan status` and `capstan history` find the reconciler's API.
struct ReconcilerOptions: ParsableArguments {
    @Option(help: "The master (HOST:PORT) whose 'capstan-reconciler' framework's webui_url is the reconciler's API.")
    var master: String = "127.0.0.1:5050"

    @Option(help: "The reconciler's API URL (e.g. http://127.0.0.1:5052); skips asking the master.")
    var reconciler: String?

    @Option(help: "Output format: text or json.")
    var output: ReconcilerOutputFormat = .text

    @Option(help: "How long to wait for the master and the reconciler (e.g. 5s, 500ms).")
    var timeout: String = "5s"

    @OptionGroup(title: "Master credentials") var credentials: ClientCredentialFlags
    @OptionGroup(title: "TLS") var tls: TLSFlags

    /// A client of the reconciler's API: `--reconciler` as given, else the URL the master knows.
    func client() async throws -> ReconcilerClient {
        let poster = try ReconcilerClient.poster(
            timeout: try FlagParsing.duration(timeout, flag: "--timeout"), authorization: try credentials.authorization(),
            tls: try tls.client())
        if let reconciler { return ReconcilerClient(baseURL: reconciler, poster: poster) }
        return try await ReconcilerClient.discover(master: try FlagParsing.hostPort(master, flag: "--master"), poster: poster)
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
