import CLibGit2
import CapstanCore
import Foundation
import Synchronization

/// The CA certificates libgit2 trusts for https:// remotes.
///
/// libgit2 keeps one trust store per process, set with `GIT_OPT_SET_SSL_CERT_LOCATIONS`, and reads
/// the file when the option is set (so a temporary file is enough). Setting it replaces the system
/// bundle, so this keeps it at the union of the system bundle and every CA file a remote of this
/// process has asked for: a CA given to one remote is trusted by all of them.
enum TrustedCertificates {
    /// Debian's bundle, the default libgit2 was built with.
    static let systemBundle = "/etc/ssl/certs/ca-certificates.crt"

    /// CA file path → its contents, as last installed.
    private static let installed = Mutex<[String: Data]>([:])

    /// Adds the certificates of `caFile` (PEM) to the trust store, once per distinct content.
    static func trust(caFile: String) throws {
        guard let contents = FileManager.default.contents(atPath: caFile) else {
            throw CapstanError(.invalidArgument, "cannot read the CA file \(caFile)")
        }
        guard String(decoding: contents, as: UTF8.self).contains("-----BEGIN CERTIFICATE-----") else {
            throw CapstanError(.invalidArgument, "the CA file \(caFile) holds no PEM certificate")
        }
        _ = LibGit2.initialised
        try installed.withLock { installed in
            guard installed[caFile] != contents else { return }
            var next = installed
            next[caFile] = contents
            var bundle = FileManager.default.contents(atPath: systemBundle) ?? Data()
            for path in next.keys.sorted() {
                bundle.append(Data("\n".utf8))
                bundle.append(next[path]!)
            }
            let temporary = FileManager.default.temporaryDirectory
                .appendingPathComponent("capstan-git-ca-\(UUID().uuidString).pem").path
            guard FileManager.default.createFile(atPath: temporary, contents: bundle, attributes: [.posixPermissions: 0o600]) else {
                throw CapstanError(.internal, "cannot write the CA bundle \(temporary)")
            }
            defer { try? FileManager.default.removeItem(atPath: temporary) }
            try LibGit2.check(
                capstan_git_set_ssl_cert_locations(temporary, nil), "cannot load the CA certificates of \(caFile)")
            installed = next
        }
    }
}
