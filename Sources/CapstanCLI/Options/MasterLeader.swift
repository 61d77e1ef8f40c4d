import CapstanAPIClient
import CapstanCore

/// The master a one-shot command (`status`, `app`, `diff --against live`, `logs`) talks to: its `--master` value
/// as a ``MasterAddress``; with several masters or an `etcd://` address, the one leading now.
enum MasterLeader {
    /// - Throws: ``CapstanError`` naming `flag` when the value is not an address, or when no leader can be found.
    static func resolve(_ text: String, flag: String, tls: ClientTLS?, defaultPort: Int? = nil) async throws(CapstanError) -> HostPort {
        let address: MasterAddress
        do { address = try MasterAddress.parse(text, defaultPort: defaultPort) } catch {
            throw CapstanError(.invalidArgument, "\(flag): \(error.message)")
        }
        if let single = address.single { return single }
        do {
            return try await LeaderFinder(address, tls: tls).leader()
        } catch {
            throw CapstanError(error.code, "\(flag) \(address): \(error.message)")
        }
    }
}
