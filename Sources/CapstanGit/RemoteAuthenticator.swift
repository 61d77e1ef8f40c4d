import CLibGit2
import CapstanCore
import Foundation

/// The credentials and host checks of one connection to a remote.
///
/// libgit2's C callbacks reach it through their payload pointer, so it must outlive the connection
/// (callers end with `withExtendedLifetime`), and it is used only on the source's thread. When a callback
/// refuses, it keeps its own error, which ``check(_:_:)`` throws instead of libgit2's generic one.
final class RemoteAuthenticator {
    let remote: GitRemote
    let address: RemoteAddress
    /// Why a callback refused, for people.
    private(set) var failure: CapstanError?
    private var requests: [UInt32: Int] = [:]

    /// Whether this libgit2 was built with SSH (libssh2) support.
    static var supportsSSH: Bool {
        _ = LibGit2.initialised
        return git_libgit2_features() & Int32(GIT_FEATURE_SSH.rawValue) != 0
    }

    /// Checks that the credentials fit the transport and installs the remote's CA, before any connection.
    init(remote: GitRemote) throws {
        self.remote = remote
        self.address = RemoteAddress(parsing: remote.url)
        switch (address.transport, remote.credentials) {
        case (.ssh, _) where !Self.supportsSSH:
            throw CapstanError(.unsupported, "\(remote): this libgit2 was built without SSH support, so ssh:// remotes cannot be used")
        case (.http, .token):
            throw CapstanError(.invalidArgument, "\(remote): a token is sent only over https://, not plain http://")
        case (.ssh, .token):
            throw CapstanError(.invalidArgument, "\(remote): a token works over https://; an ssh:// remote needs a private key (--ssh-key)")
        case (.https, .sshKey), (.http, .sshKey), (.git, .sshKey), (.git, .token), (.file, .token), (.file, .sshKey),
            (.local, .token), (.local, .sshKey):
            throw CapstanError(.invalidArgument, "\(remote): credentials of this kind do not apply to a \(address.transport.rawValue) remote")
        case (.ssh, .sshKey(let privateKeyPath, _)):
            guard FileManager.default.isReadableFile(atPath: privateKeyPath) else {
                throw CapstanError(.invalidArgument, "\(remote): cannot read the ssh private key \(privateKeyPath)")
            }
        default:
            break
        }
        if let caFile = remote.caFile {
            guard address.transport == .https else {
                throw CapstanError(.invalidArgument, "\(remote): a CA file applies only to https:// remotes")
            }
            try TrustedCertificates.trust(caFile: caFile)
        }
    }

    /// The known_hosts file ssh:// host keys are checked against.
    var knownHostsPath: String {
        if let file = remote.knownHostsFile { return file }
        let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
        return home + "/.ssh/known_hosts"
    }

    /// Remote callbacks that lead back here; valid while this object lives.
    func callbacks() -> git_remote_callbacks {
        var callbacks = git_remote_callbacks()
        git_remote_init_callbacks(&callbacks, UInt32(GIT_REMOTE_CALLBACKS_VERSION))
        callbacks.credentials = { out, _, usernameFromURL, allowed, payload in
            guard let payload, let out else { return GIT_EUSER.rawValue }
            let authenticator = Unmanaged<RemoteAuthenticator>.fromOpaque(payload).takeUnretainedValue()
            return authenticator.credential(out, usernameFromURL: usernameFromURL.map { String(cString: $0) }, allowed: allowed)
        }
        callbacks.certificate_check = { cert, valid, host, payload in
            guard let payload, let cert else { return GIT_EUSER.rawValue }
            let authenticator = Unmanaged<RemoteAuthenticator>.fromOpaque(payload).takeUnretainedValue()
            return authenticator.checkCertificate(cert, valid: valid != 0, host: host.map { String(cString: $0) } ?? "")
        }
        callbacks.payload = Unmanaged.passUnretained(self).toOpaque()
        return callbacks
    }

    /// Throws this connection's own refusal if a callback refused, else libgit2's error, for a negative result.
    @discardableResult
    func check(_ result: Int32, _ what: @autoclosure () -> String) throws -> Int32 {
        guard result < 0 else { return result }
        if let failure { throw failure }
        throw LibGit2.error(result, what())
    }

    // MARK: Credentials

    private func credential(
        _ out: UnsafeMutablePointer<UnsafeMutablePointer<git_credential>?>, usernameFromURL: String?, allowed: UInt32
    ) -> Int32 {
        let user = usernameFromURL.flatMap { $0.isEmpty ? nil : $0 }
        switch remote.credentials {
        case .none:
            return refuse(.permissionDenied, "\(remote) asks for credentials: give a token (--git-token-file) for https:// or a private key (--ssh-key) for ssh://")
        case .token(let token):
            guard allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT.rawValue != 0 else {
                return refuse(.permissionDenied, "\(remote) does not accept a token (user and password)")
            }
            guard firstRequest(GIT_CREDENTIAL_USERPASS_PLAINTEXT.rawValue) else {
                return refuse(.permissionDenied, "\(remote) refused the token (HTTP 401): check that it is valid and may read the repository")
            }
            return git_credential_userpass_plaintext_new(out, user ?? "x-access-token", token)
        case .sshKey(let privateKeyPath, let passphrase):
            let sshUser = user ?? address.user ?? "git"
            if allowed & GIT_CREDENTIAL_SSH_KEY.rawValue != 0 {
                guard firstRequest(GIT_CREDENTIAL_SSH_KEY.rawValue) else {
                    return refuse(.permissionDenied, "\(remote) refused the ssh key \(privateKeyPath) for user '\(sshUser)'")
                }
                let publicKey = privateKeyPath + ".pub"
                let hasPublicKey = FileManager.default.isReadableFile(atPath: publicKey)
                return git_credential_ssh_key_new(out, sshUser, hasPublicKey ? publicKey : nil, privateKeyPath, passphrase)
            }
            if allowed & GIT_CREDENTIAL_USERNAME.rawValue != 0 {
                guard firstRequest(GIT_CREDENTIAL_USERNAME.rawValue) else {
                    return refuse(.permissionDenied, "\(remote) refused the user name '\(sshUser)'")
                }
                return git_credential_username_new(out, sshUser)
            }
            return refuse(.permissionDenied, "\(remote) does not accept public-key authentication")
        }
    }

    /// Whether libgit2 asks for this kind of credential for the first time (a second ask means a refusal).
    private func firstRequest(_ kind: UInt32) -> Bool {
        requests[kind, default: 0] += 1
        return requests[kind] == 1
    }

    private func refuse(_ code: CapstanError.Code, _ message: String) -> Int32 {
        if failure == nil { failure = CapstanError(code, message) }
        git_error_set_str(Int32(GIT_ERROR_CALLBACK.rawValue), message)
        return code == .permissionDenied ? GIT_EAUTH.rawValue : GIT_EUSER.rawValue
    }

    // MARK: Certificates and host keys

    private func checkCertificate(_ cert: UnsafeMutablePointer<git_cert>, valid: Bool, host: String) -> Int32 {
        switch cert.pointee.cert_type {
        case GIT_CERT_X509:
            if valid { return 0 }
            let hint = remote.caFile.map { "it is not signed by a CA in the system bundle or in \($0)" }
                ?? "give the CA that signed it (--git-ca FILE)"
            return refuseCertificate("\(remote): the TLS certificate of \(host) is not trusted: \(hint)")
        case GIT_CERT_HOSTKEY_LIBSSH2:
            return UnsafeMutableRawPointer(cert).withMemoryRebound(to: git_cert_hostkey.self, capacity: 1) {
                checkHostKey($0.pointee, host: host)
            }
        default:
            return refuseCertificate("\(remote): \(host) presented a certificate of an unknown kind")
        }
    }

    private func checkHostKey(_ hostKey: git_cert_hostkey, host: String) -> Int32 {
        guard hostKey.type.rawValue & GIT_CERT_SSH_RAW.rawValue != 0, let raw = hostKey.hostkey else {
            return refuseCertificate("\(remote): libgit2 gave no raw host key for \(host), so it cannot be checked")
        }
        let key = [UInt8](UnsafeRawBufferPointer(start: raw, count: hostKey.hostkey_len))
        let port = address.effectivePort ?? 22
        let name = KnownHosts.name(host: host, port: port)
        let presented = Self.describe(key: key, hostKey: hostKey)
        let path = knownHostsPath
        let knownHosts: KnownHosts
        do {
            knownHosts = try KnownHosts.load(path: path)
        } catch {
            return refuseCertificate("\(remote): cannot check the ssh host key of \(name): no readable known_hosts file \(path) (give --known-hosts FILE)")
        }
        switch knownHosts.verify(host: host, port: port, key: key) {
        case .trusted:
            return 0
        case .revoked(let line):
            return refuseCertificate("\(remote): the ssh host key of \(name) (\(presented)) is marked @revoked in \(path):\(line)")
        case .mismatch(let listed):
            return refuseCertificate(
                "\(remote): the ssh host key of \(name) does not match \(path): it presented \(presented), the file lists other \(listed.joined(separator: ", ")) keys; refusing to connect")
        case .unknown:
            let scan = port == 22 ? "ssh-keyscan \(host)" : "ssh-keyscan -p \(port) \(host)"
            return refuseCertificate(
                "\(remote): the ssh host \(name) is not in the known_hosts file \(path) (it presented \(presented); add it, e.g. `\(scan) >> \(path)`, after checking the fingerprint)")
        }
    }

    private func refuseCertificate(_ message: String) -> Int32 {
        if failure == nil { failure = CapstanError(.permissionDenied, message) }
        git_error_set_str(Int32(GIT_ERROR_SSL.rawValue), message)
        return GIT_ECERTIFICATE.rawValue
    }

    /// `ssh-ed25519 SHA256:…`, as OpenSSH prints a key.
    static func describe(key: [UInt8], hostKey: git_cert_hostkey) -> String {
        var type = "key"
        if key.count >= 4 {
            let length = Int(key[0]) << 24 | Int(key[1]) << 16 | Int(key[2]) << 8 | Int(key[3])
            if length > 0, 4 + length <= key.count { type = String(decoding: key[4..<(4 + length)], as: UTF8.self) }
        }
        guard hostKey.type.rawValue & GIT_CERT_SSH_SHA256.rawValue != 0 else { return type }
        let digest = withUnsafeBytes(of: hostKey.hash_sha256) { Data($0) }
        let fingerprint = digest.base64EncodedString().replacingOccurrences(of: "=", with: "")
        return "\(type) SHA256:\(fingerprint)"
    }
}
