import AsyncHTTPClient
import CapstanCore
import NIOCore
import NIOSSL
import Synchronization

/// The HTTP clients registries are reached through: one for the system's CAs, and one per set of extra CA files. They
/// live as long as the process (like AsyncHTTPClient's shared client), so stores and pulls never shut them down.
/// A connection that cannot be made (refused, or a TLS certificate not trusted) fails the request at once instead of
/// being retried until the request's deadline.
enum RegistryHTTPClients {
    private static let clients = Mutex<[[String]: HTTPClient]>([:])

    /// A client trusting the system's CAs plus the certificates in the PEM files `caFiles`.
    static func client(trusting caFiles: [String]) throws -> HTTPClient {
        let key = caFiles.sorted()
        if let existing = clients.withLock({ $0[key] }) { return existing }
        var tls = TLSConfiguration.makeClientConfiguration()
        if !key.isEmpty {
            var roots: [NIOSSLCertificate] = []
            for file in key {
                do { roots += try NIOSSLCertificate.fromPEMFile(file) } catch {
                    throw CapstanError(.invalidArgument, "cannot read registry CA certificates from \(file)", cause: error)
                }
            }
            tls.additionalTrustRoots = [.certificates(roots)]
        }
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls, redirectConfiguration: .follow(max: 5, allowCycles: false), timeout: .init(connect: .seconds(30)))
        configuration.connectionPool.retryConnectionEstablishment = false
        return clients.withLock { clients in
            if let existing = clients[key] { return existing }
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            clients[key] = client
            return client
        }
    }
}
