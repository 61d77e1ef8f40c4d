import ArgumentParser
import CapstanGit
import Foundation

/// The git credential flags (`--git-token-file`, `--ssh-key`, `--known-hosts`, `--git-ca`), shared by
/// `reconcile`, `up` (through ``GitOptions``) and `diff`.
struct GitCredentialFlags: ParsableArguments {
    /// The environment variable a token may come from instead of `--git-token-file`.
    static let tokenVariable = "CAPSTAN_GIT_TOKEN"
    /// The environment variable the passphrase of `--ssh-key` comes from, if the key has one.
    static let passphraseVariable = "CAPSTAN_SSH_KEY_PASSPHRASE"

    @Option(help: ArgumentHelp("A file holding an https:// token (default: env \(GitCredentialFlags.tokenVariable)).", valueName: "file"))
    var gitTokenFile: String?

    @Option(help: ArgumentHelp("A private key file for ssh:// (passphrase from env \(GitCredentialFlags.passphraseVariable)).", valueName: "file"))
    var sshKey: String?

    @Option(help: ArgumentHelp("The known_hosts file ssh:// host keys are checked against (default: ~/.ssh/known_hosts).", valueName: "file"))
    var knownHosts: String?

    @Option(name: .customLong("git-ca"), help: ArgumentHelp("A PEM file of CA certificates trusted for https:// remotes.", valueName: "file"))
    var gitCA: String?

    func validate() throws {
        if gitTokenFile != nil && sshKey != nil { throw ValidationError("give either --git-token-file or --ssh-key, not both") }
        for (flag, file) in [("--git-token-file", gitTokenFile), ("--ssh-key", sshKey), ("--known-hosts", knownHosts), ("--git-ca", gitCA)] {
            if let file, !FileManager.default.isReadableFile(atPath: file) { throw ValidationError("\(flag): cannot read \(file)") }
        }
    }

    /// The remote for `url` with its credentials: a token from `--git-token-file` or `CAPSTAN_GIT_TOKEN` (https://
    /// only), or `--ssh-key`; `--known-hosts` and `--git-ca`.
    func remote(url: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> GitRemote {
        var credentials = GitCredentials.none
        if let sshKey {
            credentials = .sshKey(privateKeyPath: sshKey, passphrase: environment[Self.passphraseVariable])
        } else if let gitTokenFile {
            guard let data = FileManager.default.contents(atPath: gitTokenFile) else {
                throw ValidationError("--git-token-file: cannot read \(gitTokenFile)")
            }
            let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { throw ValidationError("--git-token-file: \(gitTokenFile) is empty") }
            credentials = .token(token)
        } else if let token = environment[Self.tokenVariable]?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty,
            url.lowercased().hasPrefix("https://")
        {
            credentials = .token(token)
        }
        return GitRemote(url: url, credentials: credentials, caFile: gitCA, knownHostsFile: knownHosts)
    }
}
