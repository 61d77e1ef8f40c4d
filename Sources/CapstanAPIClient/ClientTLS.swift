import AsyncHTTPClient
import CapstanCore
import NIOSSL
import Synchronization

/// How Capstan's HTTP clients reach TLS servers: the CA to trust (`--tls-ca`; the system's roots otherwise) and,
/// for servers that require one, a client certificate (`--tls-cert`, `--tls-key`).
public struct ClientTLS: Sendable, Hashable {
    public var caFile: String?
    public var certificateFile: String?
    public var keyFile: String?

    public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
    }

    /// The NIOSSL client configuration; errors name the file.
    public func configuration() throws(CapstanError) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if let caFile {
            do { configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile)) } catch {
                throw CapstanError(.invalidArgument, "--tls-ca \(caFile) is not a readable PEM certificate", cause: error)
            }
        }
        if let certificateFile, let keyFile {
            do {
                configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(certificateFile).map { .certificate($0) }
                configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
            } catch {
                throw CapstanError(.invalidArgument, "client certificate \(certificateFile) / key \(keyFile) cannot be read", cause: error)
            }
        }
        return configuration
    }

    /// An HTTP client that speaks TLS with this configuration (one per process; it lives as long as the process).
    public func makeHTTPClient() throws(CapstanError) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.tlsConfiguration = try self.configuration()
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }
}

/// One HTTP client per TLS configuration for the whole process (each holds connection pools).
enum TLSClients {
    private static let clients = Mutex<[ClientTLS: HTTPClient]>([:])

    static func client(for tls: ClientTLS) throws(CapstanError) -> HTTPClient {
        if let existing = clients.withLock({ $0[tls] }) { return existing }
        let made = try tls.makeHTTPClient()
        return clients.withLock { clients in
            if let existing = clients[tls] { return existing }  // another thread won; the spare is never used
            clients[tls] = made
            return made
        }
    }
}

/// One HTTP client that never follows redirects, per TLS configuration (nil: plain HTTP), for the whole process:
/// ``LeaderFinder`` reads the `307` of `/redirect` itself. Kept for the process's life, as the shared client is.
enum RedirectFreeClients {
    private static let clients = Mutex<[ClientTLS?: HTTPClient]>([:])

    static func client(for tls: ClientTLS?) throws(CapstanError) -> HTTPClient {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        if let tls { configuration.tlsConfiguration = try tls.configuration() }
        // Made under the lock: a spare client that is dropped unused would trap in its deinit (not shut down).
        return clients.withLock { clients in
            if let existing = clients[tls] { return existing }
            let made = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            clients[tls] = made
            return made
        }
    }
}
