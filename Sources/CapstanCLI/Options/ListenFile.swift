import CapstanCore
import CapstanLinux
import Foundation
import Logging

/// `--listen-file PATH`: once a server is serving, its bound address (`HOST:PORT`, one line) is written to PATH
/// atomically, so a script or a test that started it with `--listen HOST:0` reads the port the kernel picked instead
/// of guessing a free one and racing for it.
enum ListenFile {
    static let help = "Once serving, write the bound HOST:PORT (one line) to this file, atomically; with --listen HOST:0 it names the port the kernel picked."

    /// Writes `address` to `path` (nothing without a path); a failure is logged, the server keeps running.
    static func write(_ address: HostPort, to path: String?, logger: Logger) async {
        guard let path else { return }
        do {
            let line = Data((address.description + "\n").utf8)
            try await Blocking.run { try AtomicFile.write(line, to: path) }
        } catch {
            logger.error("Cannot write the listen file", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }
}
