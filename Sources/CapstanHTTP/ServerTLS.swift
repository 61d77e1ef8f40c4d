import CapstanCore
import NIOSSL

/// The certificate a server presents (`--tls-cert`, `--tls-key`) and, with `--tls-ca`, the CA its clients'
/// certificates must chain to; `--tls-require-client-cert` makes a client certificate mandatory (mutual TLS).
public struct ServerTLS: Sendable, Equatable {
    public var certificateFile: String
    public var keyFile: String
    public var caFile: String?
    public var requireClientCertificate: Bool

    public init(certificateFile: String, keyFile: String, caFile: String? = nil, requireClientCertificate: Bool = false) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.caFile = caFile
        self.requireClientCertificate = requireClientCertificate
    }

    /// The NIOSSL configuration; errors name the file that could not be read.
    public func configuration() throws(CapstanError) -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do { chain = try NIOSSLCertificate.fromPEMFile(certificateFile) } catch {
            throw CapstanError(.invalidArgument, "--tls-cert \(certificateFile) is not a readable PEM certificate", cause: error)
        }
        do { key = try NIOSSLPrivateKey(file: keyFile, format: .pem) } catch {
            throw CapstanError(.invalidArgument, "--tls-key \(keyFile) is not a readable PEM private key", cause: error)
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        if let caFile {
            do { configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile)) } catch {
                throw CapstanError(.invalidArgument, "--tls-ca \(caFile) is not a readable PEM certificate", cause: error)
            }
            // With a CA, client certificates are checked when sent; required only when asked.
            configuration.certificateVerification = requireClientCertificate ? .noHostnameVerification : .optionalVerification
        } else if requireClientCertificate {
            throw CapstanError(.invalidArgument, "--tls-require-client-cert needs --tls-ca (the CA client certificates must chain to)")
        }
        return configuration
    }
}
