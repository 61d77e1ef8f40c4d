import CapstanCore
import CapstanLinux
import Foundation

/// The agent's executor-token key, `meta/executor-token.key`: 32 random bytes made the first time, mode 0600,
/// written with ``AtomicFile`` (temporary file, fsync, rename, directory fsync). Executors recovered after a restart
/// still hold tokens made with it, so a file that is there but too short (torn, truncated) is refused with its path
/// rather than silently replaced by a new key that would lock those executors out.
enum ExecutorTokenKeyFile {
    /// The bytes of a key.
    static let size = 32

    /// Reads the key at `path`, making and writing a random one when there is no file.
    static func loadOrCreate(at path: String) throws(CapstanError) -> [UInt8] {
        if let data = FileManager.default.contents(atPath: path) {
            guard data.count >= size else {
                throw CapstanError(
                    .failedPrecondition,
                    "Executor token key \(path) is \(data.isEmpty ? "empty" : "\(data.count) bytes, not \(size)") (torn or corrupted); restore it, or remove it to make a new key (executors still running then fail to authenticate until they are restarted), and start the agent again")
            }
            return Array(data)
        }
        var random = SystemRandomNumberGenerator()  // getrandom(2): cryptographically secure
        let key = (0..<size).map { _ in UInt8.random(in: .min ... .max, using: &random) }
        let directory = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw CapstanError(.internal, "Cannot create \(directory) for the executor token key", cause: error)
        }
        try AtomicFile.write(Data(key), to: path, mode: 0o600)
        return key
    }
}
