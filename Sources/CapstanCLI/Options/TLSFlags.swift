import ArgumentParser
import CapstanAPIClient
import CapstanCore
import CapstanHTTP

/// `--tls-cert`, `--tls-key`, `--tls-ca`, `--tls-require-client-cert`: a server answers HTTPS with its certificate
/// and calls its peers over HTTPS, trusting `--tls-ca` and presenting the same certificate as its client
/// certificate; client commands (`status`, `diff`) use `--tls-ca` (and a client certificate when given).
struct TLSFlags: ParsableArguments {
    /// What the non-loopback listen check says of a server without `--tls-cert`.
    static let unencrypted = "traffic is not encrypted (--tls-cert)"

    @Option(help: ArgumentHelp("PEM certificate (chain) this process presents; turns on HTTPS.", valueName: "file"))
    var tlsCert: String?

    @Option(help: ArgumentHelp("PEM private key of --tls-cert.", valueName: "file"))
    var tlsKey: String?

    @Option(help: ArgumentHelp("PEM CA certificate(s) that peers' certificates must chain to; for a client, turns on HTTPS.", valueName: "file"))
    var tlsCa: String?

    @Flag(help: "Refuse clients without a certificate that chains to --tls-ca (mutual TLS).")
    var tlsRequireClientCert = false

    func validate() throws {
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
        if tlsRequireClientCert && (tlsCa == nil || tlsCert == nil) {
            throw ValidationError("--tls-require-client-cert needs --tls-cert, --tls-key and --tls-ca")
        }
    }

    /// The server side, or nil for plain HTTP; the files are read now so that a bad one stops the start.
    func server() throws -> ServerTLS? {
        guard let tlsCert, let tlsKey else { return nil }
        let tls = ServerTLS(certificateFile: tlsCert, keyFile: tlsKey, caFile: tlsCa, requireClientCertificate: tlsRequireClientCert)
        do { _ = try tls.configuration() } catch { throw ValidationError(error.description) }
        return tls
    }

    /// The client side (peers reached over HTTPS), or nil for plain HTTP.
    func client() throws -> ClientTLS? {
        guard tlsCa != nil || tlsCert != nil else { return nil }
        let tls = ClientTLS(caFile: tlsCa, certificateFile: tlsCert, keyFile: tlsKey)
        do { _ = try tls.configuration() } catch { throw ValidationError(error.description) }
        return tls
    }
}
